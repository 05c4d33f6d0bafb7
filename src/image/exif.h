// Orientation from EXIF and from TIFF image file directories (EXIF is a TIFF
// structure, so one reader serves both).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace dermlens::image::detail {

// A scalar SHORT or LONG entry of the first IFD of a TIFF structure. Throws
// ImageRejected when the structure is malformed.
std::optional<std::uint32_t> first_ifd_value(std::span<const std::uint8_t> tiff, std::uint16_t tag);

// 1..8 from an EXIF block (with or without its "Exif\0\0" prefix). Missing,
// malformed or out-of-range orientations read as 1: cameras often write
// slightly broken EXIF, and that should not make a photo unusable.
int exif_orientation(std::span<const std::uint8_t> exif);

constexpr std::uint16_t kTiffTagOrientation = 274;

}  // namespace dermlens::image::detail
