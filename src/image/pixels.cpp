#include "image/pixels.h"

#include <limits>

#include <fmt/format.h>
#include <opencv2/core.hpp>

#include "image/byte_reader.h"

namespace dermlens::image::detail {
namespace {

// Composites `value` with coverage `alpha` over white and scales from
// [0, max] to [0, 255], rounding once: 255 * (v*a + max*(max - a)) / max².
template <typename Sample>
std::uint8_t over_white_8bit(std::uint64_t value, std::uint64_t alpha) {
    constexpr std::uint64_t max = std::numeric_limits<Sample>::max();
    const std::uint64_t composited = value * alpha + max * (max - alpha);
    return static_cast<std::uint8_t>((composited * 255 + max * max / 2) / (max * max));
}

template <typename Sample, int Channels>
void convert_pixels(const cv::Mat & decoded, std::optional<std::uint16_t> transparent_grey, std::uint8_t * out) {
    constexpr std::uint64_t opaque = std::numeric_limits<Sample>::max();
    for (int y = 0; y < decoded.rows; ++y) {
        const Sample * px = decoded.ptr<Sample>(y);
        for (int x = 0; x < decoded.cols; ++x, px += Channels) {
            if constexpr (Channels == 1) {
                const std::uint64_t alpha = transparent_grey && px[0] == *transparent_grey ? 0 : opaque;
                const std::uint8_t grey = over_white_8bit<Sample>(px[0], alpha);
                out[0] = out[1] = out[2] = grey;
            } else {
                const std::uint64_t alpha = Channels == 4 ? px[Channels - 1] : opaque;
                out[0] = over_white_8bit<Sample>(px[2], alpha);  // OpenCV stores BGR(A)
                out[1] = over_white_8bit<Sample>(px[1], alpha);
                out[2] = over_white_8bit<Sample>(px[0], alpha);
            }
            out += 3;
        }
    }
}

template <typename Sample>
void convert_samples(const cv::Mat & decoded, std::optional<std::uint16_t> transparent_grey, std::uint8_t * out) {
    switch (decoded.channels()) {
        case 1: return convert_pixels<Sample, 1>(decoded, transparent_grey, out);
        case 3: return convert_pixels<Sample, 3>(decoded, transparent_grey, out);
        case 4: return convert_pixels<Sample, 4>(decoded, transparent_grey, out);
        default: throw ImageRejected(fmt::format("unsupported channel count {}", decoded.channels()));
    }
}

}  // namespace

cv::Mat apply_orientation(const cv::Mat & stored, int orientation) {
    cv::Mat shown;
    switch (orientation) {
        case 2: cv::flip(stored, shown, 1); break;
        case 3: cv::rotate(stored, shown, cv::ROTATE_180); break;
        case 4: cv::flip(stored, shown, 0); break;
        case 5: cv::transpose(stored, shown); break;
        case 6: cv::rotate(stored, shown, cv::ROTATE_90_CLOCKWISE); break;
        case 7:
            cv::transpose(stored, shown);
            cv::flip(shown, shown, -1);
            break;
        case 8: cv::rotate(stored, shown, cv::ROTATE_90_COUNTERCLOCKWISE); break;
        default: shown = stored; break;
    }
    return shown;
}

RgbImage to_rgb8(const cv::Mat & decoded, std::optional<std::uint16_t> transparent_grey) {
    RgbImage image{decoded.cols, decoded.rows, {}};
    image.rgb.resize(static_cast<std::size_t>(decoded.cols) * static_cast<std::size_t>(decoded.rows) * 3);
    switch (decoded.depth()) {
        case CV_8U: convert_samples<std::uint8_t>(decoded, transparent_grey, image.rgb.data()); break;
        case CV_16U: convert_samples<std::uint16_t>(decoded, transparent_grey, image.rgb.data()); break;
        default: throw ImageRejected("unsupported sample type (only 8- and 16-bit integer images are supported)");
    }
    return image;
}

}  // namespace dermlens::image::detail
