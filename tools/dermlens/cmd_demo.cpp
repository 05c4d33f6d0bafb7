// dermlens demo: the diagnose flow end to end on a generated tiny Gemma 3 model
// (random, untrained weights) and a real dermoscopic image from the shared data
// folder, or a generated image when that folder is absent.
#include "commands.h"
#include "diagnose_flow.h"

#include "common/data_dir.h"
#include "model/testmodel.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace dermlens::cli {
namespace {

constexpr const char * kNotice = "UNTRAINED DEMONSTRATION WEIGHTS — not a diagnosis";
constexpr std::string_view kImageClasses = "images/isic9class";
// The knowledge base's label set of those classes: the demo chooses among its labels.
constexpr std::string_view kLabelSet = "isic9class";

struct DemoOptions {
    std::uint64_t weights_seed = 0;
    std::string image;  // empty: the first image of the shared data folder
    DecisionOptions decision;
    ContextOptions context;
    RuntimeOptions runtime;
};

std::filesystem::path env_path_or(const char * name, const std::filesystem::path & fallback) {
    const char * value = std::getenv(name);
    return value != nullptr && *value != '\0' ? std::filesystem::path(value) : fallback;
}

std::filesystem::path shared_dir() {
    return env_path_or("DERMLENS_SHARED_DIR", DERMLENS_DEFAULT_SHARED_DIR).lexically_normal();
}

// Regenerated on every run (a few MB, deterministic from the seed), so the
// cached copy can never be stale after the generator changes.
testmodel::Files demo_model(std::uint64_t seed) {
    testmodel::Options options;
    options.arch = testmodel::Arch::Gemma3;
    options.preset = "tiny";
    options.seed = seed;
    options.out_dir = cache_dir() / "demo" / ("gemma3-tiny-seed" + std::to_string(seed));
    options.validate();
    return testmodel::make_test_model(options);
}

// The class folders of the shared ISIC image set, or none when it is absent.
std::vector<std::filesystem::path> class_folders() {
    std::vector<std::filesystem::path> folders;
    std::error_code ec;
    for (const auto & entry : std::filesystem::directory_iterator(shared_dir() / "data" / kImageClasses, ec)) {
        if (entry.is_directory()) {
            folders.push_back(entry.path());
        }
    }
    std::sort(folders.begin(), folders.end());
    return folders;
}

std::filesystem::path first_image(const std::vector<std::filesystem::path> & folders) {
    for (const auto & folder : folders) {
        std::vector<std::filesystem::path> files;
        for (const auto & entry : std::filesystem::directory_iterator(folder)) {
            if (entry.is_regular_file()) {
                files.push_back(entry.path());
            }
        }
        if (!files.empty()) {
            return *std::min_element(files.begin(), files.end());
        }
    }
    return {};
}

// A dark oval "lesion" on a skin-toned background.
std::vector<std::uint8_t> generated_lesion(int size) {
    std::vector<std::uint8_t> rgb(static_cast<std::size_t>(size) * size * 3);
    for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size; ++x) {
            const double dx = (x - size * 0.5) / (size * 0.30);
            const double dy = (y - size * 0.5) / (size * 0.22);
            const bool inside = dx * dx + dy * dy < 1.0;
            auto * px = &rgb[(static_cast<std::size_t>(y) * size + x) * 3];
            px[0] = inside ? 92 : 224;
            px[1] = inside ? 58 : 180;
            px[2] = inside ? 40 : 160;
        }
    }
    return rgb;
}

int run_demo(const DemoOptions & options) {
    const std::filesystem::path image = options.image.empty() ? first_image(class_folders()) : std::filesystem::path(options.image);
    const ClinicalContext context = options.context.context();
    ClassOptions classes;
    classes.label_set = std::string(kLabelSet);

    const testmodel::Files files = demo_model(options.weights_seed);
    DiagnoseSession session(files.model.string(), files.mmproj.string(), options.runtime, options.decision, classes, "");
    if (!image.empty()) {
        return diagnose_and_print(
            session, command_line_inputs({image.string()}, context),
            [&](const ImageInput & input) { return session.diagnose(input); }, options.runtime.json, kNotice);
    }
    constexpr int kSize = 448;
    const Image generated = Image::from_rgb(kSize, kSize, generated_lesion(kSize), "generated-lesion-448x448");
    return diagnose_and_print(
        session, {{generated.name(), "", context, "", std::nullopt, ""}},
        [&](const ImageInput & input) { return session.diagnose(input, generated); }, options.runtime.json, kNotice);
}

}  // namespace

void register_demo(CLI::App & root, std::vector<Command> & commands) {
    auto options = std::make_shared<DemoOptions>();
    auto * app = root.add_subcommand(
        "demo", "Run the diagnose flow on a generated tiny Gemma 3 model (untrained weights) and a sample image");
    app->add_option("--weights-seed", options->weights_seed, "Seed of the generated random weights")
        ->capture_default_str();
    app->add_option("--image", options->image, "Image to use instead of the shared sample image");
    add_decision_options(*app, options->decision, "describe-then-decide");
    add_context_options(*app, options->context);
    add_runtime_options(*app, options->runtime);
    commands.push_back({app, [options] { return run_demo(*options); }});
}

}  // namespace dermlens::cli
