// dermlens quality [--json] [--thresholds FILE] [--modality M | --modality-library FILE]
//                  [--max-megapixels N] IMAGE...
// The image-quality gate (dermlens/quality.h, docs/quality.md) on each image: every check's
// score, thresholds and reason, and the overall verdict (pass, warn, reject). An image that
// cannot be read is reported and the others still run.
#include "commands.h"

#include "cli_errors.h"
#include "dermlens/error.h"
#include "dermlens/quality.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace dermlens::cli {
namespace {

struct QualityOptions {
    std::vector<std::string> images;
    std::string thresholds;
    std::string modality;
    std::string modality_library;
    double max_megapixels = 100.0;
    bool json = false;

    DecodeLimits limits() const {
        if (!(max_megapixels > 0.0 && max_megapixels <= 1000.0)) {
            throw Error(ErrorKind::InvalidArgument, "--max-megapixels must be in (0, 1000]");
        }
        DecodeLimits limits;
        limits.max_pixels = static_cast<std::uint64_t>(max_megapixels * 1e6);
        return limits;
    }
};

int run_quality(const QualityOptions & options) {
    QualityParams params;
    params.thresholds = options.thresholds;
    params.modality = options.modality;
    params.modality_library = options.modality_library;
    params.validate();
    const DecodeLimits limits = options.limits();
    nlohmann::ordered_json array = nlohmann::ordered_json::array();
    int last_error_code = 0;
    std::size_t failures = 0;
    for (const std::string & path : options.images) {
        try {
            const QualityReport report = assess_quality(Image::from_file(path, limits), params);
            if (options.json) {
                array.push_back(to_json(report));
            } else {
                std::printf("%s", to_text(report).c_str());
            }
        } catch (const Error & e) {
            if (e.kind() == ErrorKind::InvalidArgument) throw;  // the options, not this image
            ++failures;
            last_error_code = exit_code(e.kind());
            std::fprintf(stderr, "dermlens: error: %s\n", cli_message(e).c_str());
            if (options.json) {
                array.push_back({{"path", path}, {"error", {{"kind", error_kind_name(e.kind())}, {"message", e.what()}}}});
            }
        }
    }
    if (options.json) std::printf("%s\n", array.dump(2).c_str());
    if (failures == 0) return 0;
    return options.images.size() == 1 ? last_error_code : 1;
}

}  // namespace

void register_quality(CLI::App & root, std::vector<Command> & commands) {
    auto options = std::make_shared<QualityOptions>();
    auto * app = root.add_subcommand(
        "quality", "Check each image's quality before diagnosing it: blur, exposure, contrast, noise, colour cast, "
                   "resolution, JPEG blocking, the lesion's framing, skin; a verdict (pass, warn, reject) with reasons");
    app->add_option("images", options->images, "Image files (JPEG, PNG, WebP, BMP, TIFF)")->required();
    app->add_flag("--json", options->json, "One JSON array: an object per image (docs/quality.md)");
    app->add_option("--thresholds", options->thresholds,
                    "Thresholds and reasons (JSON; default: the data folder's quality/thresholds.json)");
    app->add_option("--modality", options->modality,
                    "The images' modality: clinical, dermoscopic or pathology; the skin checks (colour cast, not skin, "
                    "the lesion's framing and size) do not apply to pathology (docs/quality.md)");
    app->add_option("--modality-library", options->modality_library,
                    "Classify each image's modality with this library of `dermlens data modality build`")
        ->excludes("--modality");
    app->add_option("--max-megapixels", options->max_megapixels, "Refuse larger images before decoding them")
        ->capture_default_str();
    commands.push_back({app, [options] { return run_quality(*options); }});
}

}  // namespace dermlens::cli
