// dermlens::assess_quality (dermlens/quality.h): the gate of src/quality/ on an Image's pixels,
// and the front ends' use of it (dermlens/quality_gate.h). Here rather than in src/quality/
// because dermlens::Image is the engine's.
#include "dermlens/quality.h"
#include "dermlens/quality_gate.h"

#include "engine/boundary.h"
#include "quality/gate.h"

#include <opencv2/core.hpp>

namespace dermlens {

QualityReport assess_quality(const Image & image, const QualityParams & params) {
    return engine::at_boundary(engine::image_subject(image.name()), [&] {
        const quality::Thresholds thresholds = quality::thresholds_of(params);
        const auto pixels = image.rgb();
        const cv::Mat view(image.height(), image.width(), CV_8UC3, const_cast<std::uint8_t *>(pixels.data()));
        return quality::assess(view, thresholds, image.name(), quality::modality_of(view, params));
    });
}

QualityGate parse_quality_gate(const std::string & name, const std::string & field) {
    if (name == "off") return QualityGate::Off;
    if (name == "report") return QualityGate::Report;
    if (name == "reject") return QualityGate::Reject;
    throw Error(ErrorKind::InvalidArgument,
                field + ": expected \"off\", \"report\" or \"reject\" (got '" + name + "')", field);
}

std::optional<QualityReport> run_quality_gate(const Image & image, QualityGate gate, const QualityParams & params) {
    if (gate == QualityGate::Off) return std::nullopt;
    return assess_quality(image, params);
}

bool refuses(QualityGate gate, const std::optional<QualityReport> & report) noexcept {
    return gate == QualityGate::Reject && report && report->overall == QualityVerdict::Reject;
}

}  // namespace dermlens
