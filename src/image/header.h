// What the container headers say about an image, read before any pixel is
// decoded so that oversized or structurally broken files are refused cheaply.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace dermlens::image::detail {

enum class ImageFormat { Jpeg, Png, Webp, Bmp, Tiff };

const char * format_name(ImageFormat format) noexcept;

struct ImageHeader {
    ImageFormat format = ImageFormat::Jpeg;
    std::uint32_t width = 0;  // as stored, before orientation
    std::uint32_t height = 0;
    int orientation = 1;      // EXIF orientation, 1..8
    // OpenCV's TIFF decoder honours the Orientation tag itself.
    bool decoder_applies_orientation = false;
    // PNG grey images with a tRNS colour key: the transparent sample value, in
    // the units OpenCV decodes to (low bit depths are expanded to 8 bits).
    std::optional<std::uint16_t> transparent_grey;
};

// Throws ImageRejected for unknown formats and malformed or truncated headers.
ImageHeader read_header(std::span<const std::uint8_t> bytes);

ImageHeader read_jpeg_header(std::span<const std::uint8_t> bytes);
ImageHeader read_png_header(std::span<const std::uint8_t> bytes);
ImageHeader read_webp_header(std::span<const std::uint8_t> bytes);
ImageHeader read_bmp_header(std::span<const std::uint8_t> bytes);
ImageHeader read_tiff_header(std::span<const std::uint8_t> bytes);

}  // namespace dermlens::image::detail
