// The shared decoder corpus (data/decoders, described in data/MANIFEST.csv):
// every file either decodes to the right size and colours or is refused with a
// message naming the file and the reason.
//
// Reference quadrant means come from Pillow 9.4 (an independent decoder):
// ImageOps.exif_transpose, convert("RGBA"), alpha_composite over white, then
// the mean RGB of each image quadrant (rows/columns split at height/2, width/2).
// The two files Pillow cannot map that way were computed from its raw
// samples: gray16_trns.png (v*255/65535, tRNS key → white) and gray12bit.tif
// (v*255/4095).
#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image_test_support.h"

namespace dermlens::image::testing {
namespace {

using ::testing::HasSubstr;
using Quadrants = std::array<std::array<double, 3>, 4>;  // TL, TR, BL, BR; RGB

struct DecodedCase {
    const char * file;
    int width;  // after orientation
    int height;
    Quadrants quadrants;
};

struct RefusedCase {
    const char * file;
    const char * reason;
};

const DecodedCase kDecoded[] = {
    {"alpha.webp", 200, 150, {{{181.2, 165.9, 208.5}, {187.8, 198.6, 173.8}, {236.9, 223.1, 217.8}, {237.8, 223.2, 216.7}}}},
    {"arithmetic_coded.jpg", 227, 149, {{{125.0, 67.2, 66.4}, {173.3, 98.9, 90.2}, {167.7, 116.2, 110.9}, {119.5, 79.5, 58.6}}}},
    {"cmyk_adobe_app14_restart.jpg", 100, 100, {{{55.8, 6.7, 9.5}, {35.6, 5.7, 7.9}, {17.2, 4.8, 6.3}, {12.3, 4.6, 5.9}}}},
    {"cmyk_jpeg_in_tiff.tif", 100, 100, {{{55.8, 6.7, 9.5}, {35.6, 5.7, 7.8}, {17.2, 4.8, 6.3}, {12.3, 4.6, 5.9}}}},
    {"control_baseline.jpg", 128, 128, {{{94.2, 72.7, 80.6}, {107.8, 117.2, 154.8}, {81.1, 56.9, 53.6}, {75.8, 73.5, 92.7}}}},
    {"control_testorig.jpg", 227, 149, {{{125.0, 67.2, 66.3}, {173.4, 98.9, 90.3}, {167.8, 116.3, 111.0}, {119.5, 79.5, 58.6}}}},
    {"exif_orient3.jpg", 128, 128, {{{94.1, 72.7, 80.5}, {107.8, 117.2, 154.7}, {81.1, 56.8, 53.4}, {75.6, 73.5, 92.6}}}},
    {"exif_orient6.jpg", 128, 128, {{{94.1, 72.7, 80.5}, {107.8, 117.2, 154.7}, {81.1, 56.9, 53.5}, {75.6, 73.5, 92.6}}}},
    {"exif_orient6.webp", 128, 128, {{{94.3, 73.0, 80.5}, {107.5, 117.1, 155.2}, {81.6, 56.9, 53.8}, {76.0, 73.6, 93.2}}}},
    {"exif_orient8.jpg", 128, 128, {{{94.1, 72.7, 80.5}, {107.8, 117.2, 154.7}, {81.1, 56.9, 53.5}, {75.7, 73.5, 92.6}}}},
    {"gray12bit.tif", 100, 100, {{{0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}}}},
    {"gray16_trns.png", 64, 64, {{{23.9, 23.9, 23.9}, {22.6, 22.6, 22.6}, {44.0, 44.0, 44.0}, {49.9, 49.9, 49.9}}}},
    {"gray_alpha_trns.png", 64, 64, {{{60.3, 60.3, 60.3}, {117.4, 117.4, 117.4}, {129.9, 129.9, 129.9}, {188.0, 188.0, 188.0}}}},
    {"grayscale_1ch.jpg", 128, 128, {{{80.0, 80.0, 80.0}, {118.7, 118.7, 118.7}, {63.7, 63.7, 63.7}, {76.3, 76.3, 76.3}}}},
    {"junk_bytes_before_marker.jpg", 1024, 768, {{{184.2, 196.9, 209.9}, {152.5, 153.1, 160.1}, {74.8, 64.2, 54.7}, {56.9, 49.1, 42.6}}}},
    {"lossy.webp", 480, 360, {{{129.6, 142.4, 106.7}, {105.2, 127.5, 80.3}, {128.5, 137.2, 98.1}, {114.4, 121.1, 92.1}}}},
    {"palette_trns.png", 64, 64, {{{207.8, 213.6, 48.2}, {69.2, 218.8, 174.9}, {64.9, 210.6, 187.3}, {169.8, 62.4, 240.5}}}},
    {"photo_exif_orient3_1800x1200.jpg", 1800, 1200, {{{137.9, 167.7, 202.9}, {93.0, 108.0, 126.4}, {80.9, 95.0, 103.3}, {81.8, 92.1, 104.0}}}},
    {"photo_exif_orient6_1200x1800.jpg", 1800, 1200, {{{138.2, 167.9, 203.0}, {92.9, 108.0, 126.3}, {80.9, 95.1, 103.3}, {81.8, 92.1, 104.0}}}},
    {"photo_exif_orient8_1800x1200.jpg", 1200, 1800, {{{145.2, 159.3, 167.8}, {178.4, 187.7, 196.2}, {122.0, 132.7, 139.0}, {132.4, 143.4, 149.2}}}},
    {"png_exif_orient3.png", 512, 512, {{{144.6, 142.7, 143.2}, {144.6, 142.6, 143.2}, {144.4, 142.5, 143.0}, {144.4, 142.5, 143.0}}}},
    {"progressive_icc_multichunk.jpg", 425, 250, {{{1.5, 50.6, 135.3}, {4.3, 58.3, 144.3}, {94.6, 147.1, 188.9}, {129.2, 171.6, 205.3}}}},
    {"rgb16bit.tiff", 100, 40, {{{16.1, 13.4, 10.6}, {51.0, 28.0, 19.7}, {32.1, 22.0, 16.0}, {67.9, 51.8, 40.2}}}},
    {"rgb16bit_icc.png", 149, 227, {{{56.5, 73.2, 86.3}, {59.3, 72.9, 84.4}, {97.2, 113.0, 125.7}, {115.4, 134.2, 145.8}}}},
    {"rgb_lzw.tif", 128, 128, {{{94.2, 72.7, 80.6}, {107.7, 117.2, 154.8}, {81.1, 56.9, 53.6}, {75.9, 73.4, 92.6}}}},
    {"rgba_adam7_interlaced.png", 162, 150, {{{184.8, 172.0, 132.7}, {206.1, 204.9, 202.6}, {156.7, 165.5, 139.9}, {214.0, 213.1, 212.8}}}},
    {"rgba_alpha.png", 200, 150, {{{181.2, 166.0, 208.7}, {187.7, 198.8, 173.4}, {237.0, 223.0, 217.7}, {238.0, 223.2, 216.7}}}},
    {"sof1_16bit_qtables.jpg", 128, 128, {{{95.2, 72.9, 81.6}, {108.5, 116.6, 154.1}, {80.9, 57.8, 51.7}, {75.9, 73.9, 91.7}}}},
};

// Refused on purpose: libjpeg here has no 12-bit support, and a JPEG missing
// its end is not decoded partially (docs/image-input.md).
const RefusedCase kRefused[] = {
    {"precision12.jpg", "12-bit JPEG sample precision is not supported"},
    {"progressive_truncated.jpg", "truncated JPEG data"},
};

// Libraries differ slightly in IDCT rounding and CMYK conversion; a wrong
// orientation, channel order or alpha policy moves quadrant means by far more.
constexpr double kQuadrantTolerance = 3.0;

// Mean absolute difference per sample between the control and a re-encoded
// JPEG of the same scene, and the least between the control and any turned or
// mirrored version of it.
constexpr double kReencodedDifference = 6.0;
constexpr double kDifferentScene = 20.0;

std::filesystem::path corpus_file(const char * name) { return corpus_dir() / name; }

#define SKIP_WITHOUT_CORPUS()                                                                \
    if (corpus_dir().empty()) {                                                              \
        GTEST_SKIP() << "shared decoder corpus not found under " DERMLENS_SHARED_DIR "/data"; \
    }

Quadrants quadrant_means(const RgbImage & image) {
    Quadrants sums{};
    std::array<double, 4> counts{};
    for (int y = 0; y < image.height; ++y) {
        for (int x = 0; x < image.width; ++x) {
            const int quadrant = (y >= image.height / 2 ? 2 : 0) + (x >= image.width / 2 ? 1 : 0);
            const std::size_t at = (static_cast<std::size_t>(y) * image.width + x) * 3;
            for (int c = 0; c < 3; ++c) {
                sums[quadrant][c] += image.rgb[at + c];
            }
            counts[quadrant] += 1;
        }
    }
    for (int q = 0; q < 4; ++q) {
        for (int c = 0; c < 3; ++c) {
            sums[q][c] /= counts[q];
        }
    }
    return sums;
}

class ImageCorpusDecodes : public ::testing::TestWithParam<DecodedCase> {};

TEST_P(ImageCorpusDecodes, SizeAndColoursMatchAnIndependentDecoder) {
    SKIP_WITHOUT_CORPUS();
    const DecodedCase & expected = GetParam();
    const RgbImage image = load_image(corpus_file(expected.file));
    ASSERT_EQ(image.width, expected.width);
    ASSERT_EQ(image.height, expected.height);
    ASSERT_EQ(image.rgb.size(), static_cast<std::size_t>(image.width) * image.height * 3);
    const Quadrants actual = quadrant_means(image);
    for (int q = 0; q < 4; ++q) {
        for (int c = 0; c < 3; ++c) {
            EXPECT_NEAR(actual[q][c], expected.quadrants[q][c], kQuadrantTolerance) << "quadrant " << q << " channel " << c;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Corpus, ImageCorpusDecodes, ::testing::ValuesIn(kDecoded),
                         [](const auto & case_info) {
                             std::string name = case_info.param.file;
                             for (char & c : name) {
                                 c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                             }
                             return name;
                         });

TEST(ImageCorpus, RefusedFilesNameTheFileAndTheReason) {
    SKIP_WITHOUT_CORPUS();
    for (const RefusedCase & refused : kRefused) {
        const std::string message = invalid_input_message([&] { load_image(corpus_file(refused.file)); });
        EXPECT_THAT(message, HasSubstr(refused.file));
        EXPECT_THAT(message, HasSubstr(refused.reason));
    }
}

// Cutting any corpus file short never crashes; JPEG, PNG and WebP cuts are
// always refused (TIFF keeps its directory wherever the writer put it, so a
// cut TIFF may still be complete).
TEST(ImageCorpus, CutFilesAreRefusedOrStillWhole) {
    SKIP_WITHOUT_CORPUS();
    for (const auto & entry : std::filesystem::directory_iterator(corpus_dir())) {
        const Bytes whole = read_bytes(entry.path());
        const std::string extension = entry.path().extension().string();
        const bool must_refuse = extension == ".jpg" || extension == ".png" || extension == ".webp";
        for (std::size_t cuts = 1; cuts < 12; ++cuts) {
            const std::size_t length = whole.size() * cuts / 12;
            const Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(length));
            try {
                decode_image(cut, "cut");
                EXPECT_FALSE(must_refuse) << entry.path().filename() << " cut to " << length << " bytes was accepted";
            } catch (const Error & e) {
                EXPECT_EQ(e.kind(), ErrorKind::InvalidInput) << e.what();
            }
        }
    }
}

TEST(ImageCorpus, EveryCorpusFileHasAnExpectedOutcome) {
    SKIP_WITHOUT_CORPUS();
    std::set<std::string> covered;
    for (const DecodedCase & c : kDecoded) {
        covered.insert(c.file);
    }
    for (const RefusedCase & c : kRefused) {
        covered.insert(c.file);
    }
    std::set<std::string> present;
    for (const auto & entry : std::filesystem::directory_iterator(corpus_dir())) {
        present.insert(entry.path().filename().string());
    }
    EXPECT_EQ(present, covered);
}

// The hopper orientation files hold the control scene turned so that their
// EXIF orientation turns it back: of the eight ways to turn the control, the
// identity must be by far the closest, which fails for a missed or doubled turn.
TEST(ImageCorpus, OrientedPhotosMatchTheControlExactlyOnceTurned) {
    SKIP_WITHOUT_CORPUS();
    const RgbImage control = load_image(corpus_file("control_baseline.jpg"));
    for (const char * file : {"exif_orient3.jpg", "exif_orient6.jpg", "exif_orient8.jpg", "exif_orient6.webp"}) {
        const RgbImage image = load_image(corpus_file(file));
        std::map<double, int> orientation_by_difference;
        for (int orientation = 1; orientation <= 8; ++orientation) {
            orientation_by_difference[mean_abs_diff(image, reference_orientation(control, orientation))] = orientation;
        }
        const auto best = orientation_by_difference.begin();
        EXPECT_EQ(best->second, 1) << file;
        EXPECT_LT(best->first, kReencodedDifference) << file;
        EXPECT_GT(std::next(best)->first, kDifferentScene) << file;
    }
}

// With its EXIF identifier defaced, exif_orient3.jpg decodes as stored: the
// control upside down. With it, the control upright.
TEST(ImageCorpus, OrientationThreeEqualsTheControlRotatedHalfATurn) {
    SKIP_WITHOUT_CORPUS();
    const RgbImage control = load_image(corpus_file("control_baseline.jpg"));
    Bytes jpeg = read_bytes(corpus_file("exif_orient3.jpg"));
    const RgbImage shown = decode_image(jpeg, "exif_orient3.jpg");
    const auto exif = std::search(jpeg.begin(), jpeg.end(), std::begin("Exif"), std::end("Exif"));  // with its NUL
    ASSERT_NE(exif, jpeg.end());
    (*exif) = 'X';
    const RgbImage stored = decode_image(jpeg, "exif_orient3-defaced.jpg");
    EXPECT_LT(mean_abs_diff(shown, control), kReencodedDifference);
    EXPECT_LT(mean_abs_diff(stored, reference_orientation(control, 3)), kReencodedDifference);
    EXPECT_GT(mean_abs_diff(stored, control), kDifferentScene);
}

// The PNG's raw profile says 3; removing it must give the stored pixels,
// which turned half a turn are exactly the oriented decode (lossless).
TEST(ImageCorpus, PngRawProfileOrientationIsApplied) {
    SKIP_WITHOUT_CORPUS();
    const Bytes png = read_bytes(corpus_file("png_exif_orient3.png"));
    const RgbImage shown = decode_image(png, "png_exif_orient3.png");
    const RgbImage stored = decode_image(without_png_chunk(png, "tEXt"), "no-profile.png");
    EXPECT_EQ(shown.rgb, reference_orientation(stored, 3).rgb);
    EXPECT_GT(mean_abs_diff(shown, stored), 5.0);
}

TEST(ImageCorpus, CameraPhotosAreTurnedUpright) {
    SKIP_WITHOUT_CORPUS();
    const RgbImage upside_down = load_image(corpus_file("photo_exif_orient3_1800x1200.jpg"));
    const RgbImage on_its_side = load_image(corpus_file("photo_exif_orient6_1200x1800.jpg"));
    EXPECT_LT(mean_abs_diff(upside_down, on_its_side), 6.0);  // the same landscape scene
    const RgbImage portrait = load_image(corpus_file("photo_exif_orient8_1800x1200.jpg"));
    EXPECT_EQ(portrait.width, 1200);
    EXPECT_EQ(portrait.height, 1800);
}

TEST(ImageCorpus, VariantsOfTheSameSceneAgree) {
    SKIP_WITHOUT_CORPUS();
    const auto diff = [](const char * a, const char * b) {
        return mean_abs_diff(load_image(corpus_file(a)), load_image(corpus_file(b)));
    };
    EXPECT_LT(diff("arithmetic_coded.jpg", "control_testorig.jpg"), 1.0);
    EXPECT_LT(diff("cmyk_jpeg_in_tiff.tif", "cmyk_adobe_app14_restart.jpg"), 3.0);
    EXPECT_LT(diff("rgb_lzw.tif", "control_baseline.jpg"), 3.0);
}

TEST(ImageCorpus, GreyImagesAreReplicatedToRgb) {
    SKIP_WITHOUT_CORPUS();
    for (const char * file : {"grayscale_1ch.jpg", "gray_alpha_trns.png", "gray16_trns.png", "gray12bit.tif"}) {
        const RgbImage image = load_image(corpus_file(file));
        for (std::size_t i = 0; i < image.rgb.size(); i += 3) {
            ASSERT_TRUE(image.rgb[i] == image.rgb[i + 1] && image.rgb[i] == image.rgb[i + 2]) << file << " pixel " << i / 3;
        }
    }
}

std::size_t count_pixels(const RgbImage & image, std::array<std::uint8_t, 3> rgb) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < image.rgb.size(); i += 3) {
        count += image.rgb[i] == rgb[0] && image.rgb[i + 1] == rgb[1] && image.rgb[i + 2] == rgb[2];
    }
    return count;
}

// i_trns.png stores values 0..255 in 16 bits with key 255 on 559 pixels:
// scaled properly everything is near black except the keyed pixels, white.
TEST(ImageCorpus, SixteenBitGreyKeyAndScaling) {
    SKIP_WITHOUT_CORPUS();
    const RgbImage image = load_image(corpus_file("gray16_trns.png"));
    EXPECT_EQ(count_pixels(image, {255, 255, 255}), 559u);
    EXPECT_EQ(count_pixels(image, {0, 0, 0}) + count_pixels(image, {1, 1, 1}), 64u * 64u - 559u);
}

// 12-bit samples (raw maximum 30) reach 8 bits as 30*255/4095 → 2.
TEST(ImageCorpus, TwelveBitTiffIsScaledByItsBitDepth) {
    SKIP_WITHOUT_CORPUS();
    const RgbImage image = load_image(corpus_file("gray12bit.tif"));
    EXPECT_EQ(*std::max_element(image.rgb.begin(), image.rgb.end()), 2);
}

// Despite its name (and the manifest) this is an RGB PNG (colour type 2) whose
// tRNS key (0, 255, 52) marks 876 pixels transparent: they become white.
TEST(ImageCorpus, RgbColourKeyTransparencyBecomesWhite) {
    SKIP_WITHOUT_CORPUS();
    const RgbImage image = load_image(corpus_file("palette_trns.png"));
    EXPECT_EQ(count_pixels(image, {0, 255, 52}), 0u);
    EXPECT_EQ(count_pixels(image, {255, 255, 255}), 876u);
}

}  // namespace
}  // namespace dermlens::image::testing
