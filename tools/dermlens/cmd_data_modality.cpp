// dermlens data modality build --class NAME=FOLDER... --out LIBRARY
// dermlens data modality classify --library LIBRARY [--k K] [--margin M] [--json] (IMAGE | FOLDER)...
// MM-Skin's modality classifier (paper 001, 3.1.1; quality/modality.h, docs/data-tools.md):
// a reference library of colour-histogram + LBP features built from labelled folders, and
// k-nearest-neighbour classification of images into its classes, with a margin report listing
// the uncertain images for the manual check the paper does.
#include "commands.h"

#include "dermlens/error.h"
#include "grounding/lesion_mask.h"
#include "image/image.h"
#include "quality/modality.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace dermlens::cli {
namespace {

namespace fs = std::filesystem;

struct BuildOptions {
    std::vector<std::string> classes;  // NAME=FOLDER
    std::string out;
};

int run_build(const BuildOptions & options) {
    quality::ModalityLibrary library;
    for (const std::string & spec : options.classes) {
        const auto equals = spec.find('=');
        if (equals == std::string::npos || equals == 0 || equals + 1 == spec.size()) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("--class '{}': must be NAME=FOLDER", spec));
        }
        library.add_folder(spec.substr(0, equals), spec.substr(equals + 1));
    }
    library.save(options.out);
    std::fprintf(stderr, "modality library '%s': %zu references of %zu classes\n", options.out.c_str(),
                 library.references().size(), library.classes().size());
    return 0;
}

struct ClassifyOptions {
    std::string library;
    std::vector<std::string> inputs;  // images or folders of images
    std::size_t k = 1;
    double margin = 0.1;
    bool json = false;
};

std::vector<fs::path> images_of(const std::vector<std::string> & inputs) {
    std::vector<fs::path> images;
    for (const std::string & input : inputs) {
        std::error_code error;
        if (fs::is_directory(input, error)) {
            const auto found = quality::image_files(input);
            images.insert(images.end(), found.begin(), found.end());
        } else {
            images.emplace_back(input);
        }
    }
    return images;
}

int run_classify(const ClassifyOptions & options) {
    if (!(options.margin >= 0.0 && options.margin <= 1.0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("--margin {}: must be in [0, 1]", options.margin));
    }
    const quality::ModalityLibrary library = quality::ModalityLibrary::load(options.library);
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    std::vector<std::string> uncertain;
    const std::vector<fs::path> images = images_of(options.inputs);
    for (const fs::path & path : images) {
        const auto features = quality::modality_features(grounding::to_rgb_mat(image::load_image(path)));
        const quality::ModalityDecision decision = library.classify(features, options.k);
        const bool unsure = decision.margin < options.margin;
        if (unsure) uncertain.push_back(path.string());
        if (options.json) {
            results.push_back({{"path", path.string()},
                               {"modality", decision.label},
                               {"distance", decision.distance},
                               {"margin", decision.margin},
                               {"uncertain", unsure},
                               {"neighbours", decision.neighbours}});
        } else {
            std::printf("%s\t%s\tmargin %.3f%s\n", path.string().c_str(), decision.label.c_str(), decision.margin,
                        unsure ? "\tcheck by hand" : "");
        }
    }
    if (options.json) {
        std::printf("%s\n", nlohmann::ordered_json{{"images", results}, {"uncertain", uncertain}}.dump(2).c_str());
    }
    std::fprintf(stderr, "modality: %zu of %zu images below margin %.3g: check them by hand\n", uncertain.size(),
                 images.size(), options.margin);
    return 0;
}

// The `data` command: made here if the other data tools have not made it already.
CLI::App & data_command(CLI::App & root) {
    for (CLI::App * sub : root.get_subcommands([](CLI::App *) { return true; })) {
        if (sub->get_name() == "data") return *sub;
    }
    auto * data = root.add_subcommand("data", "MM-Skin's data tools: build and check an image-text dataset");
    data->require_subcommand(1);
    return *data;
}

}  // namespace

void register_data_modality(CLI::App & root, std::vector<Command> & commands) {
    auto * modality = data_command(root).add_subcommand(
        "modality", "Classify images as clinical, dermoscopic or pathology (colour histogram + LBP, nearest neighbours)");
    modality->require_subcommand(1);

    auto build = std::make_shared<BuildOptions>();
    auto * build_app = modality->add_subcommand("build", "Build a reference library from labelled folders");
    build_app->add_option("--class", build->classes, "NAME=FOLDER: every image under FOLDER is a reference of NAME")
        ->required();
    build_app->add_option("--out,-o", build->out, "The library file to write (JSON)")->required();
    commands.push_back({build_app, [build] { return run_build(*build); }});

    auto classify = std::make_shared<ClassifyOptions>();
    auto * classify_app = modality->add_subcommand("classify", "Classify images by their nearest references");
    classify_app->add_option("--library,-l", classify->library, "The library file (from `data modality build`)")
        ->required();
    classify_app->add_option("inputs", classify->inputs, "Images, or folders of images")->required();
    classify_app->add_option("--k", classify->k, "Neighbours that vote (the paper: 1)")->capture_default_str();
    classify_app->add_option("--margin", classify->margin,
                             "Report images whose margin is below this for a manual check")
        ->capture_default_str();
    classify_app->add_flag("--json", classify->json, "JSON: each image's modality, margin and neighbours");
    commands.push_back({classify_app, [classify] { return run_classify(*classify); }});
}

}  // namespace dermlens::cli
