// BMP and TIFF sizes. BMP has no orientation metadata; OpenCV's TIFF decoder
// applies the TIFF Orientation tag itself, so it is only recorded here.
#include <cstdlib>

#include <fmt/format.h>

#include "image/byte_reader.h"
#include "image/exif.h"
#include "image/header.h"

namespace dermlens::image::detail {
namespace {

constexpr std::size_t kBmpInfoHeader = 14;
constexpr std::uint32_t kBmpCoreHeaderSize = 12;  // OS/2 1.x: 16-bit sizes
constexpr std::uint16_t kTiffTagWidth = 256;
constexpr std::uint16_t kTiffTagHeight = 257;

bool is_big_tiff(std::span<const std::uint8_t> bytes) {
    return bytes.size() >= 4 && ((bytes[0] == 'I' && bytes[2] == 43) || (bytes[0] == 'M' && bytes[3] == 43));
}

}  // namespace

ImageHeader read_bmp_header(std::span<const std::uint8_t> bytes) {
    const ByteReader reader(bytes, Endian::Little, "BMP header");
    ImageHeader header;
    header.format = ImageFormat::Bmp;
    if (reader.u32(kBmpInfoHeader) == kBmpCoreHeaderSize) {
        header.width = reader.u16(kBmpInfoHeader + 4);
        header.height = reader.u16(kBmpInfoHeader + 6);
    } else {
        // Signed: a negative height marks a top-down bitmap.
        const auto width = static_cast<std::int32_t>(reader.u32(kBmpInfoHeader + 4));
        const auto height = static_cast<std::int64_t>(static_cast<std::int32_t>(reader.u32(kBmpInfoHeader + 8)));
        if (width <= 0) {
            throw ImageRejected(fmt::format("corrupt BMP: invalid width {}", width));
        }
        header.width = static_cast<std::uint32_t>(width);
        header.height = static_cast<std::uint32_t>(std::llabs(height));
    }
    if (header.width == 0 || header.height == 0) {
        throw ImageRejected("corrupt BMP: zero image size");
    }
    return header;
}

ImageHeader read_tiff_header(std::span<const std::uint8_t> bytes) {
    if (is_big_tiff(bytes)) {
        throw ImageRejected("BigTIFF is not supported");
    }
    ImageHeader header;
    header.format = ImageFormat::Tiff;
    header.decoder_applies_orientation = true;
    const auto width = first_ifd_value(bytes, kTiffTagWidth);
    const auto height = first_ifd_value(bytes, kTiffTagHeight);
    if (!width || !height || *width == 0 || *height == 0) {
        throw ImageRejected("corrupt TIFF: no valid ImageWidth/ImageLength in the first directory");
    }
    header.width = *width;
    header.height = *height;
    const auto orientation = first_ifd_value(bytes, kTiffTagOrientation);
    header.orientation = orientation && *orientation >= 1 && *orientation <= 8 ? static_cast<int>(*orientation) : 1;
    return header;
}

}  // namespace dermlens::image::detail
