// Inputs that must be refused cleanly (never a crash, never a huge
// allocation) and the pixel conversions: 16-bit scaling, alpha over white,
// grey colour keys, BMP.
#include <algorithm>
#include <array>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "image_test_support.h"

namespace dermlens::image::testing {
namespace {

using ::testing::HasSubstr;

Bytes small_png() { return encode(asymmetric_bgr(40, 30), ".png"); }
Bytes small_jpeg() { return encode(asymmetric_bgr(40, 30), ".jpg"); }

Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

TEST(ImageInputs, MissingFileIsRefused) {
    const ScratchDir dir("missing");
    const std::string message = invalid_input_message([&] { load_image(dir.file("nope.jpg")); });
    EXPECT_THAT(message, HasSubstr("nope.jpg"));
    EXPECT_THAT(message, HasSubstr("file not found"));
}

TEST(ImageInputs, DirectoryIsRefused) {
    const ScratchDir dir("directory");
    std::filesystem::create_directory(dir.file("photos.jpg"));
    const std::string message = invalid_input_message([&] { load_image(dir.file("photos.jpg")); });
    EXPECT_THAT(message, HasSubstr("photos.jpg"));
    EXPECT_THAT(message, HasSubstr("is a directory"));
}

TEST(ImageInputs, EmptyFileIsRefused) {
    const ScratchDir dir("empty");
    write_bytes(dir.file("empty.png"), Bytes{});
    const std::string message = invalid_input_message([&] { load_image(dir.file("empty.png")); });
    EXPECT_THAT(message, HasSubstr("empty.png"));
    EXPECT_THAT(message, HasSubstr("file is empty"));
}

TEST(ImageInputs, TextFileIsRefused) {
    const ScratchDir dir("text");
    write_bytes(dir.file("notes.jpg"), bytes_of("patient notes: lesion on left forearm\n"));
    const std::string message = invalid_input_message([&] { load_image(dir.file("notes.jpg")); });
    EXPECT_THAT(message, HasSubstr("notes.jpg"));
    EXPECT_THAT(message, HasSubstr("not a recognised image format"));
}

TEST(ImageInputs, ModelFileIsRefusedAsSuch) {
    Bytes gguf(64, 0);
    std::copy_n("GGUF", 4, gguf.begin());
    const std::string message = invalid_input_message([&] { decode_image(gguf, "model.gguf"); });
    EXPECT_THAT(message, HasSubstr("image 'model.gguf'"));
    EXPECT_THAT(message, HasSubstr("GGUF model file, not an image"));
}

TEST(ImageInputs, UnsupportedContainersAreNamed) {
    EXPECT_THAT(invalid_input_message([] { decode_image(bytes_of("GIF89a\x01\x00\x01\x00"), "a.gif"); }),
                HasSubstr("GIF images are not supported"));
    const Bytes heic = bytes_of(std::string_view("\0\0\0\x18" "ftypheic", 12));
    EXPECT_THAT(invalid_input_message([&] { decode_image(heic, "a.heic"); }), HasSubstr("HEIF/AVIF"));
}

// Every cut of a PNG or JPEG short of its end marker is refused as truncated,
// and the smallest cuts (inside the header) as well.
TEST(ImageInputs, TruncatedPngIsRefusedAtEveryLength) {
    const Bytes png = small_png();
    ASSERT_NO_THROW(decode_image(png, "whole.png"));
    for (std::size_t length = 1; length < png.size(); ++length) {
        const Bytes cut(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(length));
        const std::string message = invalid_input_message([&] { decode_image(cut, "cut.png"); });
        EXPECT_THAT(message, HasSubstr("image 'cut.png'"));
        if (length >= 8 + 8 + 13 + 4) {  // past signature and IHDR
            EXPECT_THAT(message, HasSubstr("truncated PNG data")) << "length " << length;
        }
    }
}

TEST(ImageInputs, TruncatedJpegIsRefusedAtEveryLength) {
    const Bytes jpeg = small_jpeg();
    ASSERT_NO_THROW(decode_image(jpeg, "whole.jpg"));
    for (std::size_t length = 3; length < jpeg.size(); ++length) {
        const Bytes cut(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(length));
        const std::string message = invalid_input_message([&] { decode_image(cut, "cut.jpg"); });
        EXPECT_THAT(message, HasSubstr("truncated JPEG data")) << "length " << length;
    }
}

TEST(ImageInputs, TruncatedFileOnDiskNamesTheFile) {
    const ScratchDir dir("truncated");
    const Bytes jpeg = small_jpeg();
    write_bytes(dir.file("half.jpg"), std::span(jpeg).first(jpeg.size() / 2));
    const std::string message = invalid_input_message([&] { load_image(dir.file("half.jpg")); });
    EXPECT_THAT(message, HasSubstr("half.jpg"));
    EXPECT_THAT(message, HasSubstr("truncated JPEG data"));
}

TEST(ImageInputs, TruncatedWebpIsRefused) {
    const Bytes webp = encode(asymmetric_bgr(40, 30), ".webp");
    for (std::size_t length = 1; length < webp.size(); length += 7) {
        const Bytes cut(webp.begin(), webp.begin() + static_cast<std::ptrdiff_t>(length));
        const std::string message = invalid_input_message([&] { decode_image(cut, "cut.webp"); });
        if (length >= 12) {
            EXPECT_THAT(message, HasSubstr("truncated")) << "length " << length;
        }
    }
}

// A 20000x20000 IHDR over a tiny file: refused from the header alone. The
// IDAT here could not even decode, so reaching the decoder would give a
// different message.
TEST(ImageInputs, HugeDimensionsAreRefusedFromTheHeader) {
    Bytes png = small_png();
    for (std::size_t i = 0; i < 8; ++i) {
        png[16 + i] = std::array<std::uint8_t, 8>{0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20}[i];  // 20000 x 20000
    }
    const std::string message = invalid_input_message([&] { decode_image(png, "huge.png"); });
    EXPECT_THAT(message, HasSubstr("image 'huge.png'"));
    EXPECT_THAT(message, HasSubstr("20000x20000 is 400000000 pixels, over the limit of 100000000 pixels"));
}

TEST(ImageInputs, CustomPixelLimitIsHonoured) {
    const Bytes png = small_png();  // 40 x 30 = 1200 pixels
    EXPECT_NO_THROW(decode_image(png, "ok.png", DecodeLimits{.max_pixels = 1200}));
    EXPECT_THAT(invalid_input_message([&] { decode_image(png, "big.png", DecodeLimits{.max_pixels = 1199}); }),
                HasSubstr("40x30 is 1200 pixels, over the limit of 1199 pixels"));
}

TEST(ImageInputs, FileByteLimitIsCheckedBeforeReading) {
    const ScratchDir dir("bytes");
    const Bytes png = small_png();
    write_bytes(dir.file("big.png"), png);
    const DecodeLimits limits{.max_file_bytes = png.size() - 1};
    const std::string message = invalid_input_message([&] { load_image(dir.file("big.png"), limits); });
    EXPECT_THAT(message, HasSubstr("big.png"));
    EXPECT_THAT(message, HasSubstr("over the limit of " + std::to_string(png.size() - 1) + " bytes"));
    EXPECT_NO_THROW(load_image(dir.file("big.png"), DecodeLimits{.max_file_bytes = png.size()}));
}

// Random byte damage must end in either a clean decode or InvalidInput.
TEST(ImageInputs, CorruptedBytesNeverCrash) {
    std::mt19937 random(1234);
    for (const Bytes & original : {small_png(), small_jpeg(), encode(asymmetric_bgr(40, 30), ".webp"),
                                   encode(asymmetric_bgr(40, 30), ".bmp"), encode(asymmetric_bgr(40, 30), ".tiff")}) {
        for (int round = 0; round < 150; ++round) {
            Bytes damaged = original;
            // Even rounds aim at the headers, odd rounds anywhere.
            const std::size_t span = round % 2 == 0 ? std::min<std::size_t>(64, damaged.size()) : damaged.size();
            for (int hit = 0; hit < 4; ++hit) {
                damaged[random() % span] = static_cast<std::uint8_t>(random());
            }
            try {
                const RgbImage image = decode_image(damaged, "damaged");
                EXPECT_EQ(image.rgb.size(), static_cast<std::size_t>(image.width) * image.height * 3);
            } catch (const Error & e) {
                EXPECT_EQ(e.kind(), ErrorKind::InvalidInput);
                EXPECT_THAT(e.what(), HasSubstr("image 'damaged': "));
            }
        }
    }
}

TEST(ImageInputs, BmpDecodesExactly) {
    const cv::Mat source = asymmetric_bgr(9, 6);
    const RgbImage image = decode_image(encode(source, ".bmp"), "plain.bmp");
    EXPECT_EQ(image.width, 9);
    EXPECT_EQ(image.height, 6);
    EXPECT_EQ(image.rgb, to_rgb_image(source).rgb);
}

TEST(ImagePixels, SixteenBitSamplesAreScaledWithRounding) {
    cv::Mat source(1, 4, CV_16UC3);
    source.at<cv::Vec3w>(0, 0) = {0, 128, 129};         // 128/257 rounds down, 129/257 up
    source.at<cv::Vec3w>(0, 1) = {257, 32896, 65535};   // exact multiples of 257
    source.at<cv::Vec3w>(0, 2) = {65406, 65408, 1000};  // either side of 254.5; 1000/257 = 3.89
    source.at<cv::Vec3w>(0, 3) = {0, 0, 65535};
    const RgbImage image = decode_image(encode(source, ".png"), "deep.png");
    const std::vector<std::uint8_t> expected = {1, 0, 0, 255, 128, 1, 4, 255, 254, 255, 0, 0};  // RGB of BGR input
    EXPECT_EQ(image.rgb, expected);
}

TEST(ImagePixels, AlphaIsCompositedOverWhite) {
    cv::Mat source(1, 3, CV_8UC4);
    source.at<cv::Vec4b>(0, 0) = {0, 0, 200, 0};    // fully transparent red → white
    source.at<cv::Vec4b>(0, 1) = {0, 0, 200, 255};  // opaque red stays
    source.at<cv::Vec4b>(0, 2) = {0, 100, 0, 128};  // half green: 100*128/255 + 255*127/255
    const RgbImage image = decode_image(encode(source, ".png"), "alpha.png");
    const std::vector<std::uint8_t> expected = {255, 255, 255, 200, 0, 0, 127, 177, 127};
    EXPECT_EQ(image.rgb, expected);
}

TEST(ImagePixels, SixteenBitAlphaIsCompositedOverWhite) {
    cv::Mat source(1, 2, CV_16UC4);
    source.at<cv::Vec4w>(0, 0) = {0, 0, 65535, 32768};  // half-covered red; G, B = 255 * 32767/65535 → 127
    source.at<cv::Vec4w>(0, 1) = {0, 0, 0, 0};
    const RgbImage image = decode_image(encode(source, ".png"), "alpha16.png");
    const std::vector<std::uint8_t> expected = {255, 127, 127, 255, 255, 255};
    EXPECT_EQ(image.rgb, expected);
}

// OpenCV ignores a grey PNG's tRNS colour key; the library applies it.
TEST(ImagePixels, GreyColourKeyBecomesWhite) {
    cv::Mat grey(1, 3, CV_8UC1);
    grey.at<std::uint8_t>(0, 0) = 0;
    grey.at<std::uint8_t>(0, 1) = 40;
    grey.at<std::uint8_t>(0, 2) = 90;
    const Bytes png = insert_png_chunk(encode(grey, ".png"), "tRNS", Bytes{0, 40});
    const std::vector<std::uint8_t> expected = {0, 0, 0, 255, 255, 255, 90, 90, 90};
    EXPECT_EQ(decode_image(png, "key.png").rgb, expected);
}

TEST(ImagePixels, SixteenBitGreyColourKeyBecomesWhite) {
    cv::Mat grey(1, 2, CV_16UC1);
    grey.at<std::uint16_t>(0, 0) = 1000;
    grey.at<std::uint16_t>(0, 1) = 1001;
    const Bytes png = insert_png_chunk(encode(grey, ".png"), "tRNS", Bytes{0x03, 0xE8});  // key 1000
    const std::vector<std::uint8_t> expected = {255, 255, 255, 4, 4, 4};
    EXPECT_EQ(decode_image(png, "key16.png").rgb, expected);
}

}  // namespace
}  // namespace dermlens::image::testing
