// dermlens dev make-test-model --arch gemma3 --out DIR [--preset tiny] [--seed N] [--type f16] [--mmproj-type f16]
#include "commands.h"

#include "model/testmodel.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace dermlens::cli {
namespace {

struct MakeTestModelOptions {
    std::string arch = "gemma3";
    testmodel::Options model;
    std::string out_dir;
};

void print_file(const char * role, const std::filesystem::path & path) {
    const double megabytes = static_cast<double>(std::filesystem::file_size(path)) / (1024.0 * 1024.0);
    std::printf("%s: %s (%.1f MiB)\n", role, path.c_str(), megabytes);
}

int run_make_test_model(MakeTestModelOptions options) {
    options.model.arch = testmodel::parse_arch(options.arch);
    options.model.out_dir = options.out_dir;
    const testmodel::Files files = testmodel::make_test_model(options.model);
    print_file("model", files.model);
    print_file("mmproj", files.mmproj);
    return 0;
}

}  // namespace

void register_dev(CLI::App & root, std::vector<Command> & commands) {
    auto * dev = root.add_subcommand("dev", "Developer tools");
    dev->require_subcommand(1);

    auto options = std::make_shared<MakeTestModelOptions>();
    auto * app = dev->add_subcommand(
        "make-test-model",
        "Write a random-weight GGUF pair (model.gguf + mmproj.gguf) that llama.cpp loads, with a real tokenizer; "
        "deterministic from --seed");
    app->add_option("--arch", options->arch, "Architecture: gemma3 (MedGemma layout), llava (LLaVA-1.5), qwen2vl")
        ->capture_default_str();
    app->add_option("--preset", options->model.preset,
                    "Size: tiny (a few MB), gemma3-4b or qwen2.5-vl-7b (real shapes, several GB)")
        ->capture_default_str();
    app->add_option("--seed", options->model.seed, "Seed of the random weights")->capture_default_str();
    app->add_option("--type", options->model.text_type, "Text model tensor type: f32, f16, q8_0, q4_k_m")
        ->capture_default_str();
    app->add_option("--mmproj-type", options->model.mmproj_type, "Projector tensor type: f32, f16, q8_0")
        ->capture_default_str();
    app->add_option("--out", options->out_dir, "Output folder (created if missing)")->required();
    commands.push_back({app, [options] { return run_make_test_model(*options); }});
}

}  // namespace dermlens::cli
