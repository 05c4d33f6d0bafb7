// The smallest program on the installed dermlens package: diagnose one image among a few
// labels and print the candidates with their probabilities, most probable first, as JSON.
//   minimal MODEL.gguf MMPROJ.gguf IMAGE "label,label,..."
#include <dermlens/engine.h>

#include <cstdio>
#include <sstream>

int main(int argc, char ** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s MODEL.gguf MMPROJ.gguf IMAGE \"label,label,...\"\n", argv[0]);
        return 2;
    }
    try {
        dermlens::EngineParams params;
        params.model = argv[1];
        params.mmproj = argv[2];
        params.threads = 1;
        dermlens::Engine engine(params);

        dermlens::DiagnoseRequest request;
        std::istringstream labels(argv[4]);
        for (std::string label; std::getline(labels, label, ',');) {
            request.labels.push_back(label);
        }
        const dermlens::Diagnosis diagnosis = engine.diagnose(dermlens::Image::from_file(argv[3]), request);

        nlohmann::ordered_json out = {{"data_dir", engine.info().data_dir.string()},
                                      {"differential", nlohmann::ordered_json::array()}};
        for (const std::size_t i : diagnosis.differential) {
            out["differential"].push_back({{"label", diagnosis.candidates[i].label}, {"fused", diagnosis.candidates[i].fused}});
        }
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    } catch (const dermlens::Error & e) {
        std::fprintf(stderr, "minimal: %s: %s\n", dermlens::error_kind_name(e.kind()), e.what());
        return 1;
    }
}
