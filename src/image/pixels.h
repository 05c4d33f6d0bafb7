// From OpenCV's decoded matrix to the RgbImage contract.
#pragma once

#include <cstdint>
#include <optional>

#include <opencv2/core.hpp>

#include "image/image.h"

namespace dermlens::image::detail {

// The stored image turned for display by EXIF orientation 1..8.
cv::Mat apply_orientation(const cv::Mat & stored, int orientation);

// 8- or 16-bit grey, BGR or BGRA → 8-bit RGB. Transparency (an alpha channel
// or a grey colour key) is composited over white; 16-bit samples are scaled by
// 255/65535 with rounding. Throws ImageRejected for other sample types.
RgbImage to_rgb8(const cv::Mat & decoded, std::optional<std::uint16_t> transparent_grey);

}  // namespace dermlens::image::detail
