// dermlens::assess_quality — the image-quality gate: is a photo good enough to diagnose, and
// if not, why, in words a person understands.
//
// Paper 004's first abstract (cross-domain IQA, Legit.Health) and its telemedicine abstracts
// ask a teledermatology tool to say *before* diagnosing that an image is too blurred, too dark
// or off-target. The checks are no-reference measures (docs/quality.md names each one's
// source): blur, exposure, clipping, contrast, noise, colour cast, resolution, JPEG blocking,
// the lesion's framing and size (from the lesion segmentation) and whether the image shows
// skin at all. Each has a score, the thresholds it was judged against and a plain-language
// reason; the overall verdict is the worst of them. Thresholds and reasons are data
// (data/quality/thresholds.json). The gate is written for skin photos (clinical and
// dermoscopic); when the image is known to be a pathology slide (given, or classified by
// MM-Skin's modality classifier, quality/modality.h), the checks that judge skin (colour cast,
// not skin, the lesion's framing and size) do not apply to it and are skipped. The CLI (`dermlens quality`, `diagnose --quality`), the
// server and the web page all show this report.
#pragma once

#include "dermlens/image.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dermlens {

enum class QualityVerdict { Pass, Warn, Reject };
const char * quality_verdict_name(QualityVerdict verdict) noexcept;  // "pass" | "warn" | "reject"

// One check's outcome. A check is either "higher is worse" (blur, noise, ...) or "lower is
// worse" (contrast, resolution, ...): `warn_at` and `reject_at` are on the score's own scale,
// and `worse_when` says which side fails ("above" | "below").
struct QualityCheck {
    std::string name;    // "blur", "underexposure", ... (docs/quality.md lists them)
    // The measure, in its own unit (docs/quality.md); empty when the check does not apply
    // (lesion_size when no lesion was found: lesion_in_frame reports that), which passes.
    std::optional<double> score;
    double warn_at = 0;  // the score at which the check warns ...
    double reject_at = 0;  // ... and rejects
    std::string worse_when;  // "above" | "below"
    QualityVerdict verdict = QualityVerdict::Pass;
    std::string reason;  // plain language when warned or rejected ("too blurred to judge the border"), else ""
};

struct QualityReport {
    std::string image;  // the image's name
    // "clinical", "dermoscopic", "pathology" when given or classified (QualityParams), else "".
    std::string modality;
    int width = 0;
    int height = 0;
    QualityVerdict overall = QualityVerdict::Pass;  // the worst check's verdict
    std::vector<QualityCheck> checks;               // in the thresholds file's order
    double elapsed_ms = 0;

    // The reasons of the checks at `verdict` (reject: why it was rejected), in check order.
    std::vector<std::string> reasons(QualityVerdict verdict) const;
};

struct QualityParams {
    // The thresholds file; empty: data_dir()/quality/thresholds.json (docs/quality.md).
    std::filesystem::path thresholds;
    // The image's modality, "clinical", "dermoscopic" or "pathology"; empty: unknown, classified
    // with `modality_library` when one is named, else every check runs (a skin photo is assumed).
    // A check runs only for the modalities its "applies_to" names (docs/quality.md).
    std::string modality;
    // A library of `dermlens data modality build` (its classes named as above); empty: none.
    std::filesystem::path modality_library;

    // Throws Error(InvalidArgument) when a file named does not exist or the modality is unknown.
    void validate() const;
};

// The gate on one image (decoded now if it was not). Deterministic. Throws Error(InvalidInput)
// when the image cannot be decoded or the thresholds file is unreadable or malformed (naming
// the file and the field).
QualityReport assess_quality(const Image & image, const QualityParams & params = {});

// {"path", "modality", "width", "height", "overall", "checks": [{"name", "score", "warn_at",
// "reject_at", "worse_when", "verdict", "reason"}], "elapsed_ms"} (docs/quality.md); "modality"
// only when known.
nlohmann::ordered_json to_json(const QualityReport & report);
// An image the gate refused to diagnose, shaped as a diagnosed image's parts
// (docs/diagnose-json.md, "A refused image"): {"image": {"path", "width", "height"}, "quality":
// {...}, "refused": "the image-quality gate rejected the image: ...", "timings": {"quality_ms"}}.
// `diagnose --quality reject` prints it, and /v1/diagnose answers it for "quality": "reject".
nlohmann::ordered_json refused_to_json(const std::string & image, const QualityReport & report);
// One line: "pass", or the verdict and its reasons ("reject: too blurred to judge the border; too dark ...").
std::string quality_summary(const QualityReport & report);
// "path (WxH): reject — too blurred to judge the border; ..." then a line per check that warned or rejected.
std::string to_text(const QualityReport & report);

}  // namespace dermlens
