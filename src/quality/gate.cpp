// The image-quality gate (dermlens/quality.h): the measures of quality/measures.h on a working
// copy of the image, judged against data/quality/thresholds.json.
#include "quality/gate.h"

#include "common/data_dir.h"
#include "dermlens/error.h"
#include "grounding/lesion_mask.h"
#include "quality/measures.h"
#include "quality/modality.h"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

namespace dermlens {

const char * quality_verdict_name(QualityVerdict verdict) noexcept {
    switch (verdict) {
        case QualityVerdict::Pass: return "pass";
        case QualityVerdict::Warn: return "warn";
        case QualityVerdict::Reject: return "reject";
    }
    return "pass";
}

std::vector<std::string> QualityReport::reasons(QualityVerdict verdict) const {
    std::vector<std::string> found;
    for (const QualityCheck & check : checks) {
        if (check.verdict == verdict) found.push_back(check.reason);
    }
    return found;
}

void QualityParams::validate() const {
    std::error_code error;
    if (!thresholds.empty() && !std::filesystem::is_regular_file(thresholds, error)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("quality thresholds '{}': no such file", thresholds.string()),
                    "thresholds");
    }
    const auto & modalities = quality::known_modalities();
    if (!modality.empty() && std::find(modalities.begin(), modalities.end(), modality) == modalities.end()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("quality modality '{}' is unknown (known: {})", modality, fmt::join(modalities, ", ")),
                    "modality");
    }
    if (!modality_library.empty() && !std::filesystem::is_regular_file(modality_library, error)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("modality library '{}': no such file", modality_library.string()), "modality_library");
    }
}

namespace quality {
namespace {

cv::Mat1b grey_of(const cv::Mat3b & rgb) {
    cv::Mat1b grey;
    cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
    return grey;
}

// Exposure is judged on the ends of the luma histogram (quality/measures.h, luma_quantile):
// overexposed when even the darkest twentieth of the picture is bright, underexposed when even
// its brightest quarter is dark. These shares separated best, on the shared photos, the
// undistorted from the strongest gamma curves (docs/quality.md, "Validation").
constexpr double kDarkestShare = 0.05;
constexpr double kBrightestShare = 0.25;

// Each measure, computed once per image and only when a check asks for it.
class Measures {
public:
    Measures(const cv::Mat3b & rgb, const Thresholds & thresholds)
        : native_(rgb), working_(grounding::reduced(rgb, thresholds.working_side)), working_grey_(grey_of(working_)),
          thresholds_(thresholds) {}

    std::optional<double> score(const std::string & check) {
        if (check == "resolution") return std::min(native_.cols, native_.rows);
        if (check == "blur") return blur_effect(working_grey_);
        if (check == "underexposure") return luma_quantile(working_grey_, 1.0 - kBrightestShare);
        if (check == "overexposure") return luma_quantile(working_grey_, kDarkestShare);
        if (check == "clipping") return clipped_share(working_, 250);
        if (check == "contrast") return rms_contrast(working_grey_);
        if (check == "noise") return noise_sigma(working_grey_);
        if (check == "colour_cast") {
            return colour_cast(working_, thresholds_.lowest_skin_hue, thresholds_.highest_skin_hue);
        }
        if (check == "jpeg_blocking") return blockiness(grey_of(native_));  // the 8-pixel grid is the file's
        if (check == "lesion_in_frame") return std::max(framing().cut_share, framing().off_centre);
        if (check == "lesion_size") {
            return framing().found ? std::optional<double>(framing().area_share) : std::nullopt;
        }
        if (check == "not_skin") return skin_share(working_);
        if (check == "brisque") return brisque(working_grey_, thresholds_.brisque_folder);
        throw Error(ErrorKind::InvalidArgument, fmt::format("quality check '{}' is unknown", check));
    }

private:
    const Framing & framing() {
        if (!framing_) framing_ = lesion_framing(working_);
        return *framing_;
    }

    const cv::Mat3b & native_;
    cv::Mat3b working_;
    cv::Mat1b working_grey_;
    const Thresholds & thresholds_;
    std::optional<Framing> framing_;
};

bool beyond(double score, double threshold, bool worse_above) {
    return worse_above ? score >= threshold : score <= threshold;
}

QualityCheck judged(const CheckThresholds & thresholds, std::optional<double> score) {
    QualityCheck check{thresholds.name, score, thresholds.warn_at, thresholds.reject_at,
                       thresholds.worse_above ? "above" : "below", QualityVerdict::Pass, ""};
    if (!score) return check;
    if (beyond(*score, thresholds.reject_at, thresholds.worse_above)) {
        check.verdict = QualityVerdict::Reject;
        check.reason = thresholds.reject_reason;
    } else if (beyond(*score, thresholds.warn_at, thresholds.worse_above)) {
        check.verdict = QualityVerdict::Warn;
        check.reason = thresholds.warn_reason;
    }
    return check;
}

// Whether the check judges images of `modality` ("": unknown, every check does).
bool applies(const CheckThresholds & check, const std::string & modality) {
    return modality.empty() || std::find(check.applies_to.begin(), check.applies_to.end(), modality) != check.applies_to.end();
}

}  // namespace

QualityReport assess(const cv::Mat3b & rgb, const Thresholds & thresholds, const std::string & name,
                     const std::string & modality) {
    if (rgb.empty()) throw Error(ErrorKind::InvalidInput, fmt::format("image '{}': no pixels to assess", name));
    const auto start = std::chrono::steady_clock::now();
    QualityReport report;
    report.image = name;
    report.modality = modality;
    report.width = rgb.cols;
    report.height = rgb.rows;
    Measures measures(rgb, thresholds);
    for (const CheckThresholds & check : thresholds.checks) {
        report.checks.push_back(judged(check, applies(check, modality) ? measures.score(check.name) : std::nullopt));
        report.overall = std::max(report.overall, report.checks.back().verdict);
    }
    report.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return report;
}

std::string modality_of(const cv::Mat3b & rgb, const QualityParams & params) {
    if (!params.modality.empty() || params.modality_library.empty()) return params.modality;
    const ModalityLibrary library = ModalityLibrary::load(params.modality_library);
    const auto & modalities = known_modalities();
    for (const std::string & label : library.classes()) {
        if (std::find(modalities.begin(), modalities.end(), label) == modalities.end()) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("modality library '{}': class '{}' is not a modality (known: {})",
                                    params.modality_library.string(), label, fmt::join(modalities, ", ")));
        }
    }
    return library.classify(modality_features(rgb)).label;
}

Thresholds thresholds_of(const QualityParams & params) {
    params.validate();
    return load_thresholds(params.thresholds.empty() ? data_dir() / "quality" / "thresholds.json" : params.thresholds);
}

}  // namespace quality

nlohmann::ordered_json to_json(const QualityReport & report) {
    nlohmann::ordered_json checks = nlohmann::ordered_json::array();
    for (const QualityCheck & check : report.checks) {
        checks.push_back({{"name", check.name},
                          {"score", check.score ? nlohmann::ordered_json(*check.score) : nullptr},
                          {"warn_at", check.warn_at},
                          {"reject_at", check.reject_at},
                          {"worse_when", check.worse_when},
                          {"verdict", quality_verdict_name(check.verdict)},
                          {"reason", check.reason}});
    }
    nlohmann::ordered_json out = {{"path", report.image}};
    if (!report.modality.empty()) out["modality"] = report.modality;
    out.update(nlohmann::ordered_json{{"width", report.width},
                                      {"height", report.height},
                                      {"overall", quality_verdict_name(report.overall)},
                                      {"checks", std::move(checks)},
                                      {"elapsed_ms", report.elapsed_ms}});
    return out;
}

nlohmann::ordered_json refused_to_json(const std::string & image, const QualityReport & report) {
    nlohmann::ordered_json gate = to_json(report);
    for (const char * elsewhere : {"path", "width", "height", "elapsed_ms"}) gate.erase(elsewhere);
    return {{"image", {{"path", image}, {"width", report.width}, {"height", report.height}}},
            {"quality", std::move(gate)},
            {"refused", "the image-quality gate rejected the image: " + quality_summary(report)},
            {"timings", {{"quality_ms", report.elapsed_ms}}}};
}

std::string quality_summary(const QualityReport & report) {
    const auto reasons = report.reasons(report.overall);
    if (reasons.empty()) return quality_verdict_name(report.overall);
    return fmt::format("{}: {}", quality_verdict_name(report.overall), fmt::join(reasons, "; "));
}

std::string to_text(const QualityReport & report) {
    std::string text = fmt::format("{} ({}x{}): {}", report.image, report.width, report.height,
                                   quality_verdict_name(report.overall));
    const auto rejected = report.reasons(QualityVerdict::Reject);
    if (!rejected.empty()) text += fmt::format(" — {}", fmt::join(rejected, "; "));
    text += "\n";
    for (const QualityCheck & check : report.checks) {
        if (check.verdict == QualityVerdict::Pass) continue;
        text += fmt::format("  {:<7} {:<16} {:.4g} ({} {:.4g} warns, {:.4g} rejects): {}\n",
                            quality_verdict_name(check.verdict), check.name, check.score.value_or(0.0), check.worse_when,
                            check.warn_at, check.reject_at, check.reason);
    }
    return text;
}

}  // namespace dermlens
