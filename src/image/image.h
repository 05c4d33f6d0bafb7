// Image input: every supported file becomes 8-bit RGB, oriented for display.
//
// Formats: JPEG, PNG, WebP, BMP, TIFF. EXIF orientation is applied, 16-bit
// samples are scaled to 8 bits, transparency is composited over white and grey
// is replicated to RGB. Anything unusable throws dermlens::Error(InvalidInput)
// whose message names the file and the reason; see docs/image-input.md.
#pragma once

#include "dermlens/image.h"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace dermlens::image {

using DecodeLimits = dermlens::DecodeLimits;  // dermlens/image.h

struct RgbImage {  // 8-bit RGB, row-major, 3 bytes per pixel, orientation already applied
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> rgb;
};

RgbImage load_image(const std::filesystem::path & path, const DecodeLimits & limits = {});
RgbImage decode_image(std::span<const std::uint8_t> bytes, const std::string & name, const DecodeLimits & limits = {});

}  // namespace dermlens::image
