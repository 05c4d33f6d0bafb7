// dermlens::to_json / to_text of a Diagnosis: the one-image object of docs/diagnose-json.md
// (the image, the model files, the pipeline's report, the grounding, the settings).
#include "dermlens/diagnosis.h"

#include "engine/details.h"
#include "pipeline/rerank_report.h"

#include <fmt/format.h>

namespace dermlens {
namespace {

nlohmann::ordered_json file_json(const FileInfo & file) {
    return {{"path", file.path.string()}, {"sha256", file.sha256}};
}

nlohmann::ordered_json quality_json(const QualityReport & report) {
    nlohmann::ordered_json out = to_json(report);
    // "image" says which image; the time goes with the other timings (the rest is reproducible).
    for (const char * elsewhere : {"path", "width", "height", "elapsed_ms"}) out.erase(elsewhere);
    return out;
}

}  // namespace

nlohmann::ordered_json to_json(const Diagnosis & diagnosis) {
    const Diagnosis::Details & details = *diagnosis.details;
    const ImageInfo & image = diagnosis.image;
    nlohmann::ordered_json out = {{"image",
                                   {{"path", image.name},
                                    {"sha256", image.sha256},
                                    {"width", image.width},
                                    {"height", image.height},
                                    {"encoding", image.from_cache ? "cache" : "encoder"}}},
                                  {"model", file_json(details.model)},
                                  {"mmproj", file_json(details.mmproj)}};
    if (diagnosis.quality) {
        out["quality"] = quality_json(*diagnosis.quality);
    }
    out.update(pipeline::to_json(details.result));
    if (diagnosis.quality) {
        out["timings"]["quality_ms"] = diagnosis.quality->elapsed_ms;
    }
    if (details.grounding) {
        out["grounding"] = pipeline::to_json(*details.grounding);
    }
    out["settings"] = details.settings;
    return out;
}

std::string to_text(const Diagnosis & diagnosis) {
    const Diagnosis::Details & details = *diagnosis.details;
    const ImageInfo & image = diagnosis.image;
    const std::string quality =
        diagnosis.quality ? fmt::format("  image quality: {}\n", quality_summary(*diagnosis.quality)) : "";
    return fmt::format("{} ({}x{}, {})\n{}{}{}", image.name, image.width, image.height,
                       image.from_cache ? "encoding from the cache" : "encoded", quality,
                       pipeline::to_text(details.result), details.grounding ? pipeline::to_text(*details.grounding) : "");
}

}  // namespace dermlens
