// Orientation is applied exactly once, for all eight EXIF values, in every
// container that carries it. Each case builds the same pixels with and without
// an orientation and compares against reference_orientation(), which maps
// pixels straight from the EXIF definition rather than via the library.
#include <algorithm>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <zlib.h>

#include "image_test_support.h"

namespace dermlens::image::testing {
namespace {

constexpr int kWidth = 7;  // non-square and odd, so a missed or extra turn shows in the size
constexpr int kHeight = 5;

class ImageOrientation : public ::testing::TestWithParam<int> {};

void expect_oriented(const Bytes & plain, const Bytes & tagged, int orientation) {
    const RgbImage stored = decode_image(plain, "plain");
    const RgbImage shown = decode_image(tagged, "tagged");
    const RgbImage expected = reference_orientation(stored, orientation);
    ASSERT_EQ(shown.width, expected.width);
    ASSERT_EQ(shown.height, expected.height);
    EXPECT_EQ(shown.rgb, expected.rgb);
}

TEST_P(ImageOrientation, JpegApp1Exif) {
    const cv::Mat source = asymmetric_bgr(kWidth, kHeight);
    const Bytes jpeg = encode(source, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 100});
    Bytes exif = {'E', 'x', 'i', 'f', 0, 0};
    const Bytes tiff = exif_block(GetParam(), GetParam() % 2 == 0);
    exif.insert(exif.end(), tiff.begin(), tiff.end());
    expect_oriented(jpeg, insert_jpeg_segment(jpeg, 0xE1, exif), GetParam());
}

TEST_P(ImageOrientation, PngExifChunk) {
    const cv::Mat source = asymmetric_bgr(kWidth, kHeight);
    const Bytes png = encode(source, ".png");
    EXPECT_EQ(decode_image(png, "plain.png").rgb, to_rgb_image(source).rgb);
    expect_oriented(png, insert_png_chunk(png, "eXIf", exif_block(GetParam(), GetParam() % 2 == 1)), GetParam());
}

// ImageMagick's "Raw profile type exif": hex text after a name and a length.
Bytes raw_profile_text(int orientation) {
    Bytes exif = {'E', 'x', 'i', 'f', 0, 0};
    const Bytes tiff = exif_block(orientation, true);
    exif.insert(exif.end(), tiff.begin(), tiff.end());
    std::string text = "Raw profile type exif";
    text += '\0';
    text += "\nexif\n      " + std::to_string(exif.size()) + "\n";
    static const char * const digits = "0123456789abcdef";
    for (std::size_t i = 0; i < exif.size(); ++i) {
        text += digits[exif[i] >> 4];
        text += digits[exif[i] & 0xF];
        if (i % 36 == 35) {
            text += '\n';
        }
    }
    return Bytes(text.begin(), text.end());
}

TEST_P(ImageOrientation, PngImageMagickTextProfile) {
    const Bytes png = encode(asymmetric_bgr(kWidth, kHeight), ".png");
    expect_oriented(png, insert_png_chunk(png, "tEXt", raw_profile_text(GetParam())), GetParam());
}

TEST_P(ImageOrientation, PngImageMagickCompressedProfile) {
    const Bytes png = encode(asymmetric_bgr(kWidth, kHeight), ".png");
    const Bytes text = raw_profile_text(GetParam());
    const auto keyword_end = static_cast<std::size_t>(std::find(text.begin(), text.end(), 0) - text.begin());
    Bytes compressed(compressBound(static_cast<uLong>(text.size())));
    uLongf compressed_size = static_cast<uLongf>(compressed.size());
    ASSERT_EQ(compress(compressed.data(), &compressed_size, text.data() + keyword_end + 1,
                       static_cast<uLong>(text.size() - keyword_end - 1)),
              Z_OK);
    Bytes ztxt(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(keyword_end + 1));
    ztxt.push_back(0);  // compression method: zlib
    ztxt.insert(ztxt.end(), compressed.begin(), compressed.begin() + static_cast<std::ptrdiff_t>(compressed_size));
    expect_oriented(png, insert_png_chunk(png, "zTXt", ztxt), GetParam());
}

TEST_P(ImageOrientation, WebpExifChunk) {
    const cv::Mat source = asymmetric_bgr(kWidth, kHeight);
    const Bytes lossless = encode(source, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
    EXPECT_EQ(decode_image(lossless, "plain.webp").rgb, to_rgb_image(source).rgb);
    const Bytes plain = webp_with_exif(lossless, kWidth, kHeight, exif_block(1, false));
    expect_oriented(plain, webp_with_exif(lossless, kWidth, kHeight, exif_block(GetParam(), false)), GetParam());
}

// OpenCV's TIFF decoder applies the Orientation tag itself; the library must
// not apply it a second time.
TEST_P(ImageOrientation, TiffOrientationTag) {
    const cv::Mat source = asymmetric_bgr(kWidth, kHeight);
    const Bytes plain = uncompressed_rgb_tiff(source, 1);
    EXPECT_EQ(decode_image(plain, "plain.tif").rgb, to_rgb_image(source).rgb);
    expect_oriented(plain, uncompressed_rgb_tiff(source, GetParam()), GetParam());
}

INSTANTIATE_TEST_SUITE_P(AllExifValues, ImageOrientation, ::testing::Range(1, 9));

TEST(ImageOrientationEdge, OutOfRangeOrMalformedExifIsIgnored) {
    const Bytes png = encode(asymmetric_bgr(kWidth, kHeight), ".png");
    const RgbImage plain = decode_image(png, "plain.png");
    for (const Bytes & exif : {exif_block(0, true), exif_block(9, false), Bytes{'M', 'M', 0, 42, 0xFF, 0xFF, 0xFF, 0}}) {
        const RgbImage decoded = decode_image(insert_png_chunk(png, "eXIf", exif), "odd-exif.png");
        EXPECT_EQ(decoded.width, plain.width);
        EXPECT_EQ(decoded.rgb, plain.rgb);
    }
}

}  // namespace
}  // namespace dermlens::image::testing
