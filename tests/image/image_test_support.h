// Helpers shared by the image tests: corpus location, file I/O, building
// EXIF blocks and containers, comparing images, and expected refusals.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "dermlens/error.h"
#include "image/image.h"

namespace dermlens::image::testing {

using Bytes = std::vector<std::uint8_t>;

// /work/shared/data/decoders, or empty when the shared data is not there.
std::filesystem::path corpus_dir();

Bytes read_bytes(const std::filesystem::path & path);
void write_bytes(const std::filesystem::path & path, std::span<const std::uint8_t> bytes);

// A fresh directory under gtest's temp dir, removed on destruction.
class ScratchDir {
public:
    explicit ScratchDir(const std::string & name);
    ~ScratchDir();
    ScratchDir(const ScratchDir &) = delete;
    ScratchDir & operator=(const ScratchDir &) = delete;
    std::filesystem::path file(const std::string & name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// A small image with distinct values in every pixel and corner, so any flip,
// rotation or channel swap changes it. BGR(A) order, as OpenCV encodes.
cv::Mat asymmetric_bgr(int width, int height, int depth = CV_8U);

// Encodes `bgr` with OpenCV (".png", ".webp", ".bmp", ...).
Bytes encode(const cv::Mat & bgr, const std::string & extension, const std::vector<int> & params = {});

// The RGB pixels of an OpenCV BGR 8-bit image, as decode_image should return them.
RgbImage to_rgb_image(const cv::Mat & bgr8);

// A TIFF-structured EXIF block whose first IFD holds only Orientation.
Bytes exif_block(int orientation, bool big_endian);

// Container surgery.
Bytes insert_png_chunk(const Bytes & png, std::string_view type, const Bytes & data);  // right after IHDR
Bytes without_png_chunk(const Bytes & png, std::string_view type);
Bytes insert_jpeg_segment(const Bytes & jpeg, std::uint8_t marker, const Bytes & data);  // right after SOI
Bytes webp_with_exif(const Bytes & simple_webp, int width, int height, const Bytes & exif);
Bytes uncompressed_rgb_tiff(const cv::Mat & bgr8, int orientation);

// Where the display pixel comes from: independent of the library's own
// orientation code, written from the EXIF definition of each value.
RgbImage reference_orientation(const RgbImage & stored, int orientation);

double mean_abs_diff(const RgbImage & a, const RgbImage & b);

// The InvalidInput message thrown by `action`; fails the test if it succeeds
// or throws anything else.
std::string invalid_input_message(const std::function<void()> & action);

}  // namespace dermlens::image::testing
