// load_image / decode_image: read, check the header against the limits, decode
// with OpenCV, then orient and convert. Every refusal becomes
// Error(InvalidInput, "image '<name>': <reason>").
#include "image/image.h"

#include <fstream>
#include <limits>
#include <system_error>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "dermlens/error.h"
#include "image/byte_reader.h"
#include "image/header.h"
#include "image/pixels.h"

namespace dermlens::image {
namespace {

using detail::ImageHeader;
using detail::ImageRejected;

[[noreturn]] void refuse(const std::string & name, const std::string & reason) {
    throw Error(ErrorKind::InvalidInput, fmt::format("image '{}': {}", name, reason));
}

void check_size_limits(const ImageHeader & header, const DecodeLimits & limits) {
    const std::uint64_t pixels = std::uint64_t{header.width} * header.height;
    if (pixels > limits.max_pixels) {
        throw ImageRejected(fmt::format("{}x{} is {} pixels, over the limit of {} pixels", header.width,
                                        header.height, pixels, limits.max_pixels));
    }
}

bool swaps_axes(int orientation) { return orientation >= 5; }

// IMREAD_UNCHANGED keeps 16-bit samples and alpha, and is the one mode in which
// OpenCV 4.6 leaves JPEG EXIF orientation alone, so it is applied exactly once,
// here. Its TIFF decoder is the exception: it honours the Orientation tag itself.
cv::Mat decode_pixels(std::span<const std::uint8_t> bytes, const ImageHeader & header) {
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw ImageRejected("file is too large for the decoder (over 2 GiB)");
    }
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<std::uint8_t *>(bytes.data()));
    cv::Mat decoded;
    try {
        decoded = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception & e) {
        throw ImageRejected(fmt::format("the {} decoder failed: {}", detail::format_name(header.format), e.err));
    }
    if (decoded.empty()) {
        throw ImageRejected(fmt::format("the {} decoder could not decode the pixel data (corrupt or unsupported variant)",
                                        detail::format_name(header.format)));
    }
    const bool turned = header.decoder_applies_orientation && swaps_axes(header.orientation);
    const auto expected_width = static_cast<int>(turned ? header.height : header.width);
    const auto expected_height = static_cast<int>(turned ? header.width : header.height);
    if (decoded.cols != expected_width || decoded.rows != expected_height) {
        throw ImageRejected(fmt::format("decoded size {}x{} differs from the {}x{} in the header", decoded.cols,
                                        decoded.rows, expected_width, expected_height));
    }
    return decoded;
}

std::vector<std::uint8_t> read_file(const std::filesystem::path & path, const DecodeLimits & limits) {
    const std::string name = path.string();
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (status.type() == std::filesystem::file_type::not_found) {
        refuse(name, "file not found");
    }
    if (error) {
        refuse(name, "cannot access the file: " + error.message());
    }
    if (std::filesystem::is_directory(status)) {
        refuse(name, "is a directory, not an image file");
    }
    if (!std::filesystem::is_regular_file(status)) {
        refuse(name, "is not a regular file");
    }
    const std::uintmax_t size = std::filesystem::file_size(path, error);
    if (error) {
        refuse(name, "cannot read the file size: " + error.message());
    }
    if (size > limits.max_file_bytes) {
        refuse(name, fmt::format("file is {} bytes, over the limit of {} bytes", size, limits.max_file_bytes));
    }
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!in || static_cast<std::uintmax_t>(in.gcount()) != size) {
        refuse(name, "could not read the file");
    }
    return bytes;
}

}  // namespace

RgbImage load_image(const std::filesystem::path & path, const DecodeLimits & limits) {
    return decode_image(read_file(path, limits), path.string(), limits);
}

RgbImage decode_image(std::span<const std::uint8_t> bytes, const std::string & name, const DecodeLimits & limits) {
    if (bytes.empty()) {
        refuse(name, "file is empty");
    }
    if (bytes.size() > limits.max_file_bytes) {
        refuse(name, fmt::format("file is {} bytes, over the limit of {} bytes", bytes.size(), limits.max_file_bytes));
    }
    try {
        const ImageHeader header = detail::read_header(bytes);
        check_size_limits(header, limits);
        const cv::Mat decoded = decode_pixels(bytes, header);
        const int orientation = header.decoder_applies_orientation ? 1 : header.orientation;
        return detail::to_rgb8(detail::apply_orientation(decoded, orientation), header.transparent_grey);
    } catch (const ImageRejected & e) {
        refuse(name, e.what());
    }
}

}  // namespace dermlens::image
