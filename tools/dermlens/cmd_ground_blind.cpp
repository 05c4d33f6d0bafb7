// dermlens ground blind --model M --mmproj P --manifest M --out DIR
//   (--labels "a,b" | --label-set NAME | --probe P.probe) [--strategy direct] [--not-sure]
//   [--limit N] [--style S] [--schema S] [--decide score|generate] ...
// Language-prior reliance: each image is asked the same question twice, with the photo and
// with a uniform grey image (RGB 128,128,128) of the same size. A model that looks at the
// image changes its answer; one that answers from the prompt alone gives the same diagnosis.
// Writes DIR/report.json (settings, per-image rows with both diagnoses, summary) and
// DIR/summary.csv; the summary on stdout. Exit 1 when some image failed, 0 otherwise.
#include "ground_flow.h"

#include "dermlens/error.h"
#include "pipeline/prompt.h"

#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <memory>
#include <utility>

namespace dermlens::cli {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

constexpr unsigned char kGreyLevel = 128;

// The grey image of each size, encoded once: every image of that size shows the model the same pixels.
class GreyEncodings {
public:
    explicit GreyEncodings(GroundSession & session) : session_(session) {}

    const EncodedImage & of_size(int width, int height) {
        const auto key = std::make_pair(width, height);
        auto found = encodings_.find(key);
        if (found == encodings_.end()) {
            const cv::Mat3b grey(height, width, cv::Vec3b(kGreyLevel, kGreyLevel, kGreyLevel));
            found = encodings_.emplace(key, session_.encode(grey)).first;
        }
        return found->second;
    }

private:
    GroundSession & session_;
    std::map<std::pair<int, int>, EncodedImage> encodings_;
};

json blind_row(GroundSession & session, GreyEncodings & grey, const ImageInput & input) {
    const LoadedImage image = session.load(input);
    const std::string & seed = image.sha256;  // the same option order for both
    const pipeline::RerankResult photo = session.diagnose(0, session.encode(image.rgb), input, seed);
    const pipeline::RerankResult blank = session.diagnose(0, grey.of_size(image.rgb.cols, image.rgb.rows), input, seed);
    const bool same = photo.final && blank.final && photo.final->label == blank.final->label;
    return {{"sha256", image.sha256},
            {"width", image.rgb.cols},
            {"height", image.rgb.rows},
            {"photo", decision_json(photo)},
            {"grey", decision_json(blank)},
            {"same_diagnosis", same}};
}

json blind_summary(const json & rows, const std::string & strategy, std::size_t encoder_runs) {
    const auto tested = succeeded(rows);
    std::size_t same = 0;
    std::size_t photo_abstained = 0;
    std::size_t grey_abstained = 0;
    std::map<std::string, std::size_t> grey_diagnoses;
    for (const json * row : tested) {
        same += (*row)["same_diagnosis"].get<bool>() ? 1 : 0;
        photo_abstained += (*row)["photo"]["abstained"].get<bool>() ? 1 : 0;
        grey_abstained += (*row)["grey"]["abstained"].get<bool>() ? 1 : 0;
        if (const json & final = (*row)["grey"]["final"]; !final.is_null()) {
            ++grey_diagnoses[final.get<std::string>()];
        }
    }
    return {{"images", rows.size()},
            {"tested", tested.size()},
            {"failed", rows.size() - tested.size()},
            {"encoder_runs", encoder_runs},
            {"strategy", strategy},
            {"same_diagnosis", same},
            {"same_rate", share(same, tested.size())},
            {"photo_abstained", photo_abstained},
            {"grey_abstained", grey_abstained},
            {"grey_diagnoses", grey_diagnoses}};
}

std::string summary_csv(const json & summary) {
    return fmt::format("strategy,images,same_diagnosis,same_rate,photo_abstained,grey_abstained\n{},{},{},{:.6f},{},{}\n",
                       summary["strategy"].get<std::string>(), summary["tested"].get<std::size_t>(),
                       summary["same_diagnosis"].get<std::size_t>(), summary["same_rate"].get<double>(),
                       summary["photo_abstained"].get<std::size_t>(), summary["grey_abstained"].get<std::size_t>());
}

void print_summary(const json & summary, const fs::path & out) {
    std::printf("ground blind: %zu images, %zu failed; strategy %s on the photo and on a uniform grey image\n",
                summary["images"].get<std::size_t>(), summary["failed"].get<std::size_t>(),
                summary["strategy"].get<std::string>().c_str());
    std::printf("same diagnosis:  %zu of %zu (%.1f%%): there the answer did not depend on the image\n",
                summary["same_diagnosis"].get<std::size_t>(), summary["tested"].get<std::size_t>(),
                100.0 * summary["same_rate"].get<double>());
    std::printf("abstained:       photo %zu, grey %zu\n", summary["photo_abstained"].get<std::size_t>(),
                summary["grey_abstained"].get<std::size_t>());
    std::string diagnoses;
    for (const auto & [label, count] : summary["grey_diagnoses"].items()) {
        diagnoses += fmt::format("{}{} {}", diagnoses.empty() ? "" : ", ", label, count.get<std::size_t>());
    }
    std::printf("grey image diagnosed as: %s\n", diagnoses.empty() ? "-" : diagnoses.c_str());
    std::printf("wrote %s, %s\n", (out / "report.json").c_str(), (out / "summary.csv").c_str());
}

int run_blind(const GroundOptions & options) {
    const std::string strategy(pipeline::strategy_name(pipeline::parse_strategy(options.decision.strategy)));
    GroundSetup setup{{strategy}, false, std::nullopt};
    const std::vector<ImageInput> inputs = ground_inputs(options);
    GroundSession session(options, std::move(setup));
    const fs::path out = prepare_out_dir(options.out);

    GreyEncodings grey(session);
    const ImageRows images = for_each_image("ground blind", inputs, [&](const ImageInput & input) {
        return blind_row(session, grey, input);
    });
    const json summary = blind_summary(images.rows, strategy, session.encoder_runs());
    write_json_file(out / "report.json",
                    {{"command", "ground blind"},
                     {"settings", session.settings()},
                     {"images", images.rows},
                     {"summary", summary}});
    write_text_file(out / "summary.csv", summary_csv(summary));
    print_summary(summary, out);
    std::fprintf(stderr, "ground blind: %zu images: %zu encoded (grey images once per size), %zu failed\n",
                 inputs.size(), session.encoder_runs(), images.failed);
    return images.failed == 0 ? 0 : 1;
}

}  // namespace

void register_ground_blind(CLI::App & ground, std::vector<Command> & commands) {
    auto options = std::make_shared<GroundOptions>();
    auto * app = ground.add_subcommand(
        "blind", "Ask the same question with the photo and with a uniform grey image: how often does the diagnosis "
                 "stay the same? (reliance on the language prior)");
    add_ground_options(*app, *options, "direct", {"--mask-column", "--box-column"});  // the lesion plays no part
    commands.push_back({app, [options] { return run_blind(*options); }});
}

}  // namespace dermlens::cli
