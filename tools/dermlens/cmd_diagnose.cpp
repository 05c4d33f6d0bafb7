// dermlens diagnose --model M --mmproj P --labels "melanoma,nevus" [options] IMAGE...
#include "commands.h"
#include "diagnose_flow.h"

#include "model/vlm.h"
#include "pipeline/data_files.h"
#include "pipeline/direct.h"

#include <memory>

namespace dermlens::cli {
namespace {

struct DiagnoseOptions {
    std::string model;
    std::string mmproj;
    std::string labels;
    std::vector<std::string> images;
    RuntimeOptions runtime;
};

int run_diagnose(const DiagnoseOptions & options) {
    const auto labels = pipeline::parse_label_list(options.labels);
    const auto params = options.runtime.vlm_params(options.model, options.mmproj);
    const std::string prompt = pipeline::read_prompt("direct");
    model::Vlm vlm(params);
    pipeline::DirectDiagnoser diagnoser(vlm, labels, prompt);
    const std::vector<std::filesystem::path> images(options.images.begin(), options.images.end());
    return diagnose_and_print(
        images,
        [&](const std::filesystem::path & image) {
            return diagnose_file(diagnoser, image, options.runtime.max_megapixels);
        },
        options.runtime.json, "");
}

}  // namespace

void register_diagnose(CLI::App & root, std::vector<Command> & commands) {
    auto options = std::make_shared<DiagnoseOptions>();
    auto * app = root.add_subcommand(
        "diagnose", "Ask a vision-language model for the most likely of the given labels for each image (direct answer)");
    app->add_option("--model,-m", options->model, "GGUF text model (e.g. MedGemma-4B)")
        ->required()
        ->envname("DERMLENS_MODEL");
    app->add_option("--mmproj", options->mmproj, "GGUF vision projector belonging to the model")
        ->required()
        ->envname("DERMLENS_MMPROJ");
    app->add_option("--labels", options->labels, "Comma-separated candidate labels, e.g. \"melanoma,nevus\"")
        ->required();
    app->add_option("images", options->images, "Image files (JPEG, PNG, ...)")->required();
    add_runtime_options(*app, options->runtime);
    commands.push_back({app, [options] { return run_diagnose(*options); }});
}

}  // namespace dermlens::cli
