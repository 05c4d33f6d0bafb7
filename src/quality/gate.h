// The gate over pixels: every check of the thresholds on one RGB image, judged. The public
// assess_quality (dermlens/quality.h, in src/engine/quality.cpp: Image is the engine's) decodes
// an Image and calls this; tests and the benchmark call it on pixels they distorted.
#pragma once

#include "dermlens/quality.h"
#include "quality/thresholds.h"

#include <opencv2/core.hpp>

#include <string>

namespace dermlens::quality {

// The checks of `thresholds` on `rgb` (R, G, B order), judged; `name` names the image. With a
// `modality` (known_modalities()), a check whose applies_to leaves it out is not applicable
// (score empty, pass); empty: every check runs.
QualityReport assess(const cv::Mat3b & rgb, const Thresholds & thresholds, const std::string & name,
                     const std::string & modality = "");

// The modality of `rgb`: params.modality when given, else the nearest reference's class in
// params.modality_library (k = 1, MM-Skin's rule) when one is named, else "". Throws
// Error(InvalidInput) when the library is unreadable or its classes are not modalities.
std::string modality_of(const cv::Mat3b & rgb, const QualityParams & params);

// The thresholds file of `params` (data_dir()/quality/thresholds.json when empty), loaded.
Thresholds thresholds_of(const QualityParams & params);

}  // namespace dermlens::quality
