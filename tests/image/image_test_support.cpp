#include "image_test_support.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <zlib.h>

namespace dermlens::image::testing {
namespace {

void put_u16(Bytes & out, std::uint32_t value, bool big_endian) {
    const auto high = static_cast<std::uint8_t>(value >> 8);
    const auto low = static_cast<std::uint8_t>(value);
    out.push_back(big_endian ? high : low);
    out.push_back(big_endian ? low : high);
}

void put_u32(Bytes & out, std::uint32_t value, bool big_endian) {
    if (big_endian) {
        put_u16(out, value >> 16, true);
        put_u16(out, value & 0xFFFF, true);
    } else {
        put_u16(out, value & 0xFFFF, false);
        put_u16(out, value >> 16, false);
    }
}

// push_back rather than insert: GCC 12 -O3 reports false array-bounds errors for the latter.
void put_text(Bytes & out, std::string_view text) {
    for (const char c : text) {
        out.push_back(static_cast<std::uint8_t>(c));
    }
}

std::uint32_t read_be32(const Bytes & bytes, std::size_t offset) {
    return std::uint32_t(bytes[offset]) << 24 | std::uint32_t(bytes[offset + 1]) << 16 |
           std::uint32_t(bytes[offset + 2]) << 8 | bytes[offset + 3];
}

Bytes png_chunk(std::string_view type, const Bytes & data) {
    Bytes chunk;
    put_u32(chunk, static_cast<std::uint32_t>(data.size()), true);
    put_text(chunk, type);
    chunk.insert(chunk.end(), data.begin(), data.end());
    const auto crc = crc32(crc32(0, nullptr, 0), chunk.data() + 4, static_cast<uInt>(chunk.size() - 4));
    put_u32(chunk, static_cast<std::uint32_t>(crc), true);
    return chunk;
}

// TIFF IFD entry: tag, type, count, value (inline when it fits in 4 bytes).
void put_entry(Bytes & out, std::uint16_t tag, std::uint16_t type, std::uint32_t count, std::uint32_t value) {
    put_u16(out, tag, false);
    put_u16(out, type, false);
    put_u32(out, count, false);
    if (type == 3 && count == 1) {
        put_u16(out, value, false);
        put_u16(out, 0, false);
    } else {
        put_u32(out, value, false);
    }
}

}  // namespace

std::filesystem::path corpus_dir() {
    const std::filesystem::path dir = std::filesystem::path(DERMLENS_SHARED_DIR) / "data" / "decoders";
    return std::filesystem::is_directory(dir) ? dir : std::filesystem::path{};
}

Bytes read_bytes(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::filesystem::path & path, std::span<const std::uint8_t> bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

ScratchDir::ScratchDir(const std::string & name)
    : path_(std::filesystem::path(::testing::TempDir()) / ("dermlens_image_" + name)) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

cv::Mat asymmetric_bgr(int width, int height, int depth) {
    const int max = depth == CV_16U ? 65535 : 255;
    cv::Mat image(height, width, CV_MAKETYPE(depth, 3));
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const int values[3] = {(x * 255 / (width - 1)), (y * 255 / (height - 1)), ((x * 7 + y * 13) % 256)};
            for (int c = 0; c < 3; ++c) {
                const int value = values[c] * max / 255;
                if (depth == CV_16U) {
                    image.at<cv::Vec3w>(y, x)[c] = static_cast<std::uint16_t>(value);
                } else {
                    image.at<cv::Vec3b>(y, x)[c] = static_cast<std::uint8_t>(value);
                }
            }
        }
    }
    return image;
}

Bytes encode(const cv::Mat & bgr, const std::string & extension, const std::vector<int> & params) {
    Bytes out;
    if (!cv::imencode(extension, bgr, out, params)) {
        ADD_FAILURE() << "OpenCV could not encode " << extension;
    }
    return out;
}

RgbImage to_rgb_image(const cv::Mat & bgr8) {
    RgbImage image{bgr8.cols, bgr8.rows, {}};
    for (int y = 0; y < bgr8.rows; ++y) {
        for (int x = 0; x < bgr8.cols; ++x) {
            const cv::Vec3b px = bgr8.at<cv::Vec3b>(y, x);
            image.rgb.push_back(px[2]);
            image.rgb.push_back(px[1]);
            image.rgb.push_back(px[0]);
        }
    }
    return image;
}

Bytes exif_block(int orientation, bool big_endian) {
    Bytes out;
    put_text(out, big_endian ? "MM" : "II");
    put_u16(out, 42, big_endian);
    put_u32(out, 8, big_endian);  // first IFD right after the header
    put_u16(out, 1, big_endian);  // one entry
    put_u16(out, 0x0112, big_endian);
    put_u16(out, 3, big_endian);  // SHORT
    put_u32(out, 1, big_endian);
    put_u16(out, static_cast<std::uint32_t>(orientation), big_endian);
    put_u16(out, 0, big_endian);
    put_u32(out, 0, big_endian);  // no next IFD
    return out;
}

Bytes insert_png_chunk(const Bytes & png, std::string_view type, const Bytes & data) {
    constexpr std::size_t after_ihdr = 8 + 12 + 13;
    Bytes out(png.begin(), png.begin() + after_ihdr);
    const Bytes chunk = png_chunk(type, data);
    out.insert(out.end(), chunk.begin(), chunk.end());
    out.insert(out.end(), png.begin() + after_ihdr, png.end());
    return out;
}

Bytes without_png_chunk(const Bytes & png, std::string_view type) {
    Bytes out(png.begin(), png.begin() + 8);
    for (std::size_t pos = 8; pos + 12 <= png.size();) {
        const std::size_t size = 12 + read_be32(png, pos);
        if (std::memcmp(png.data() + pos + 4, type.data(), 4) != 0) {
            out.insert(out.end(), png.begin() + static_cast<std::ptrdiff_t>(pos),
                       png.begin() + static_cast<std::ptrdiff_t>(pos + size));
        }
        pos += size;
    }
    return out;
}

Bytes insert_jpeg_segment(const Bytes & jpeg, std::uint8_t marker, const Bytes & data) {
    Bytes out(jpeg.begin(), jpeg.begin() + 2);
    out.push_back(0xFF);
    out.push_back(marker);
    put_u16(out, static_cast<std::uint32_t>(data.size() + 2), true);
    out.insert(out.end(), data.begin(), data.end());
    out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
    return out;
}

Bytes webp_with_exif(const Bytes & simple_webp, int width, int height, const Bytes & exif) {
    Bytes body;
    put_text(body, "WEBP");
    put_text(body, "VP8X");
    put_u32(body, 10, false);
    put_u32(body, 0x08, false);  // flags: EXIF present; 3 reserved bytes
    put_u32(body, static_cast<std::uint32_t>(width - 1), false);
    body.pop_back();  // 24-bit field
    put_u32(body, static_cast<std::uint32_t>(height - 1), false);
    body.pop_back();
    body.insert(body.end(), simple_webp.begin() + 12, simple_webp.end());  // the VP8/VP8L chunk
    put_text(body, "EXIF");
    put_u32(body, static_cast<std::uint32_t>(exif.size()), false);
    body.insert(body.end(), exif.begin(), exif.end());
    if (exif.size() % 2 != 0) {
        body.push_back(0);
    }
    Bytes out;
    put_text(out, "RIFF");
    put_u32(out, static_cast<std::uint32_t>(body.size()), false);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

Bytes uncompressed_rgb_tiff(const cv::Mat & bgr8, int orientation) {
    constexpr std::uint16_t kShort = 3;
    constexpr std::uint16_t kLong = 4;
    constexpr std::uint32_t kEntries = 11;
    const auto width = static_cast<std::uint32_t>(bgr8.cols);
    const auto height = static_cast<std::uint32_t>(bgr8.rows);
    const std::uint32_t bits_offset = 8 + 2 + kEntries * 12 + 4;
    const std::uint32_t pixels_offset = bits_offset + 6;
    const std::uint32_t pixel_bytes = width * height * 3;
    Bytes out;
    put_text(out, "II");
    put_u16(out, 42, false);
    put_u32(out, 8, false);
    put_u16(out, kEntries, false);
    put_entry(out, 256, kLong, 1, width);
    put_entry(out, 257, kLong, 1, height);
    put_entry(out, 258, kShort, 3, bits_offset);
    put_entry(out, 259, kShort, 1, 1);  // no compression
    put_entry(out, 262, kShort, 1, 2);  // RGB
    put_entry(out, 273, kLong, 1, pixels_offset);
    put_entry(out, 274, kShort, 1, static_cast<std::uint32_t>(orientation));
    put_entry(out, 277, kShort, 1, 3);
    put_entry(out, 278, kLong, 1, height);
    put_entry(out, 279, kLong, 1, pixel_bytes);
    put_entry(out, 284, kShort, 1, 1);  // chunky
    put_u32(out, 0, false);
    for (int i = 0; i < 3; ++i) {
        put_u16(out, 8, false);
    }
    const RgbImage rgb = to_rgb_image(bgr8);
    out.insert(out.end(), rgb.rgb.begin(), rgb.rgb.end());
    return out;
}

RgbImage reference_orientation(const RgbImage & stored, int orientation) {
    const int w = stored.width;
    const int h = stored.height;
    const bool swapped = orientation >= 5;
    RgbImage shown{swapped ? h : w, swapped ? w : h, {}};
    shown.rgb.resize(stored.rgb.size());
    for (int y = 0; y < shown.height; ++y) {
        for (int x = 0; x < shown.width; ++x) {
            int sx = x;
            int sy = y;
            switch (orientation) {
                case 2: sx = w - 1 - x; break;
                case 3: sx = w - 1 - x; sy = h - 1 - y; break;
                case 4: sy = h - 1 - y; break;
                case 5: sx = y; sy = x; break;
                case 6: sx = y; sy = h - 1 - x; break;
                case 7: sx = w - 1 - y; sy = h - 1 - x; break;
                case 8: sx = w - 1 - y; sy = x; break;
                default: break;
            }
            const auto from = static_cast<std::size_t>(sy * w + sx) * 3;
            const auto to = static_cast<std::size_t>(y * shown.width + x) * 3;
            std::memcpy(shown.rgb.data() + to, stored.rgb.data() + from, 3);
        }
    }
    return shown;
}

double mean_abs_diff(const RgbImage & a, const RgbImage & b) {
    if (a.width != b.width || a.height != b.height || a.rgb.size() != b.rgb.size() || a.rgb.empty()) {
        ADD_FAILURE() << "size mismatch: " << a.width << "x" << a.height << " vs " << b.width << "x" << b.height;
        return 255.0;
    }
    double sum = 0;
    for (std::size_t i = 0; i < a.rgb.size(); ++i) {
        sum += std::abs(int(a.rgb[i]) - int(b.rgb[i]));
    }
    return sum / static_cast<double>(a.rgb.size());
}

std::string invalid_input_message(const std::function<void()> & action) {
    try {
        action();
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidInput) << e.what();
        return e.what();
    } catch (const std::exception & e) {
        ADD_FAILURE() << "expected dermlens::Error, got: " << e.what();
        return {};
    }
    ADD_FAILURE() << "expected an InvalidInput error, but the input was accepted";
    return {};
}

}  // namespace dermlens::image::testing
