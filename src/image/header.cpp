// Recognises the container from its signature and hands it to its parser.
// Files OpenCV could also open (PPM, JPEG 2000, OpenEXR, ...) are refused:
// only formats whose headers are checked here reach a decoder.
#include "image/header.h"

#include <cstring>
#include <string_view>

#include "image/byte_reader.h"

namespace dermlens::image::detail {
namespace {

using namespace std::string_view_literals;

bool starts_with(std::span<const std::uint8_t> bytes, std::string_view prefix, std::size_t offset = 0) {
    return bytes.size() >= offset + prefix.size() && std::memcmp(bytes.data() + offset, prefix.data(), prefix.size()) == 0;
}

bool is_tiff(std::span<const std::uint8_t> bytes) {
    return starts_with(bytes, "II*\0"sv) || starts_with(bytes, "MM\0*"sv) || starts_with(bytes, "II+\0"sv) ||
           starts_with(bytes, "MM\0+"sv);
}

// A clearer refusal for files people plausibly pass by mistake.
void reject_known_non_images(std::span<const std::uint8_t> bytes) {
    if (starts_with(bytes, "GGUF"sv)) {
        throw ImageRejected("this is a GGUF model file, not an image");
    }
    if (starts_with(bytes, "GIF87a"sv) || starts_with(bytes, "GIF89a"sv)) {
        throw ImageRejected("GIF images are not supported (use JPEG, PNG, WebP, BMP or TIFF)");
    }
    if (starts_with(bytes, "ftyp"sv, 4)) {
        throw ImageRejected("HEIF/AVIF images are not supported (use JPEG, PNG, WebP, BMP or TIFF)");
    }
}

}  // namespace

const char * format_name(ImageFormat format) noexcept {
    switch (format) {
        case ImageFormat::Jpeg: return "JPEG";
        case ImageFormat::Png: return "PNG";
        case ImageFormat::Webp: return "WebP";
        case ImageFormat::Bmp: return "BMP";
        case ImageFormat::Tiff: return "TIFF";
    }
    return "image";
}

ImageHeader read_header(std::span<const std::uint8_t> bytes) {
    if (starts_with(bytes, "\xFF\xD8\xFF"sv)) {
        return read_jpeg_header(bytes);
    }
    if (starts_with(bytes, "\x89PNG\r\n\x1A\n"sv)) {
        return read_png_header(bytes);
    }
    if (starts_with(bytes, "RIFF"sv) && starts_with(bytes, "WEBP"sv, 8)) {
        return read_webp_header(bytes);
    }
    if (starts_with(bytes, "BM"sv)) {
        return read_bmp_header(bytes);
    }
    if (is_tiff(bytes)) {
        return read_tiff_header(bytes);
    }
    reject_known_non_images(bytes);
    throw ImageRejected("not a recognised image format (supported: JPEG, PNG, WebP, BMP, TIFF)");
}

}  // namespace dermlens::image::detail
