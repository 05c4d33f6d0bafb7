// dermlens::assess_quality (dermlens/quality.h): the gate of src/quality/ on an Image's pixels.
// Here rather than in src/quality/ because dermlens::Image is the engine's.
#include "dermlens/quality.h"

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

}  // namespace dermlens
