// The gate over pixels: every check of the thresholds on one RGB image, judged. The public
// assess_quality (dermlens/quality.h, in src/engine/quality.cpp: Image is the engine's) decodes
// an Image and calls this; tests and the benchmark call it on pixels they distorted.
#pragma once

#include "dermlens/quality.h"
#include "quality/thresholds.h"

#include <opencv2/core.hpp>

#include <string>

namespace dermlens::quality {

// The checks of `thresholds` on `rgb` (R, G, B order), judged; `name` names the image.
QualityReport assess(const cv::Mat3b & rgb, const Thresholds & thresholds, const std::string & name);

// The thresholds file of `params` (data_dir()/quality/thresholds.json when empty), loaded.
Thresholds thresholds_of(const QualityParams & params);

}  // namespace dermlens::quality
