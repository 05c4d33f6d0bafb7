// Lesion masks: mask files (formats, JPEG threshold, errors), boxes, automatic segmentation
// on drawn dermoscopy-like images whose lesion is known and on real ISIC images, and hiding
// the lesion by inpainting.
#include "dermlens/error.h"
#include "grounding/lesion_mask.h"
#include "image/image.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace dermlens::grounding;
using dermlens::ErrorKind;
using dermlens::test::expect_error;
using dermlens::test::TempDir;
using dermlens::test::write_file;

const fs::path kIsic = fs::path(DERMLENS_SHARED_DIR) / "data" / "images" / "isic9class";

double iou(const cv::Mat1b & a, const cv::Mat1b & b) {
    const double intersection = cv::countNonZero(a & b);
    const double union_area = cv::countNonZero(a | b);
    return union_area == 0.0 ? 0.0 : intersection / union_area;
}

cv::Point2d centroid(const cv::Mat1b & mask) {
    const cv::Moments moments = cv::moments(mask, true);
    return {moments.m10 / moments.m00, moments.m01 / moments.m00};
}

cv::Scalar mean_in(const cv::Mat3b & rgb, const cv::Mat1b & region) { return cv::mean(rgb, region); }

double largest_channel_gap(const cv::Scalar & a, const cv::Scalar & b) {
    return std::max({std::abs(a[0] - b[0]), std::abs(a[1] - b[1]), std::abs(a[2] - b[2])});
}

// The band of `width` pixels just outside `region`.
cv::Mat1b ring_around(const cv::Mat1b & region, int width) {
    cv::Mat1b grown;
    cv::dilate(region, grown, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * width + 1, 2 * width + 1}));
    return grown & ~region;
}

// ---------------------------------------------------------------------------------------
// Drawn dermoscopy-like images: skin with shading and noise, an irregular brown lesion with
// darker dots and a soft edge, hairs across it, a dark circular vignette.

struct Scene {
    cv::Size size{320, 240};
    unsigned seed = 1;
    bool lesion = true;
    cv::Point2d lesion_offset{0.0, 0.0};  // share of the width and height
    double lesion_radius = 0.2;           // share of the shorter side
    bool vignette = true;
    int hairs = 0;
    bool clutter = false;  // freckles on the skin and a dark shadow reaching in from one edge
};

struct Drawn {
    cv::Mat3b rgb;
    cv::Mat1b lesion;  // the truth: 255 inside the drawn lesion outline
};

cv::Mat1b irregular_blob(const Scene & scene, cv::RNG & rng) {
    const cv::Point2d centre(scene.size.width * (0.5 + scene.lesion_offset.x),
                             scene.size.height * (0.5 + scene.lesion_offset.y));
    const double radius = scene.lesion_radius * std::min(scene.size.width, scene.size.height);
    std::vector<double> amplitude, phase;
    for (int k = 2; k <= 5; ++k) {
        amplitude.push_back(rng.uniform(0.02, 0.1));
        phase.push_back(rng.uniform(0.0, 2 * CV_PI));
    }
    const double stretch = rng.uniform(0.8, 1.2);
    std::vector<cv::Point> outline;
    for (int i = 0; i < 360; ++i) {
        const double angle = i * CV_PI / 180.0;
        double r = radius;
        for (std::size_t k = 0; k < amplitude.size(); ++k) {
            r += radius * amplitude[k] * std::cos(static_cast<double>(k + 2) * angle + phase[k]);
        }
        outline.emplace_back(cvRound(centre.x + r * stretch * std::cos(angle)),
                             cvRound(centre.y + r / stretch * std::sin(angle)));
    }
    cv::Mat1b mask(scene.size, 0);
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{outline}, cv::Scalar(255));
    return mask;
}

// A brown lesion with darker globules and a soft edge, blended over `image`.
void paint_lesion(cv::Mat3f & image, const cv::Mat1b & lesion, cv::RNG & rng) {
    const cv::Vec3f brown(rng.uniform(95.f, 130.f), rng.uniform(60.f, 85.f), rng.uniform(40.f, 60.f));
    cv::Mat3f pigment(image.size(), brown);
    const cv::Rect bounds = cv::boundingRect(lesion);
    for (int dot = 0; dot < 25; ++dot) {
        const cv::Point at(rng.uniform(bounds.x, bounds.x + bounds.width),
                           rng.uniform(bounds.y, bounds.y + bounds.height));
        cv::circle(pigment, at, std::max(1, bounds.width / 25), cv::Scalar(60, 40, 30), cv::FILLED);
    }
    cv::Mat1f alpha;
    lesion.convertTo(alpha, CV_32F, 1.0 / 255.0);
    cv::GaussianBlur(alpha, alpha, {}, 0.006 * image.cols + 0.5);  // a soft edge, as real lesions have
    for (int y = 0; y < image.rows; ++y) {
        for (int x = 0; x < image.cols; ++x) {
            image(y, x) = alpha(y, x) * pigment(y, x) + (1.0f - alpha(y, x)) * image(y, x);
        }
    }
}

// Freckles anywhere, and a dark shadow reaching in from the left edge (outside the lesion).
void add_clutter(cv::Mat3f & image, const cv::Mat1b & lesion, cv::RNG & rng) {
    for (int dot = 0; dot < 12; ++dot) {
        const cv::Point at(rng.uniform(0, image.cols), rng.uniform(0, image.rows));
        cv::circle(image, at, std::max(1, image.cols / 120), cv::Scalar(150, 110, 90), cv::FILLED, cv::LINE_AA);
    }
    cv::Mat3f shadow = image.clone();
    cv::ellipse(shadow, {0, image.rows / 2}, {image.cols / 12, image.rows / 4}, 0.0, 0.0, 360.0,
                cv::Scalar(110, 80, 70), cv::FILLED);
    cv::GaussianBlur(shadow, shadow, {}, 0.01 * image.cols + 0.5);
    shadow.copyTo(image, ~lesion);
}

void add_hairs(cv::Mat3f & image, int hairs, cv::RNG & rng) {
    for (int hair = 0; hair < hairs; ++hair) {
        const cv::Point from(rng.uniform(0, image.cols), 0);
        const cv::Point to(rng.uniform(0, image.cols), image.rows - 1);
        cv::line(image, from, to, cv::Scalar(45, 35, 30), rng.uniform(1, 3), cv::LINE_AA);
    }
}

// A dermoscope's disc: light falls off to near black beyond a circle, darkening the corners.
void add_vignette(cv::Mat3f & image) {
    const cv::Point2f centre(image.cols / 2.0f, image.rows / 2.0f);
    const float field_radius = 0.5f * static_cast<float>(std::max(image.cols, image.rows));
    const float edge = 0.08f * static_cast<float>(image.cols);
    for (int y = 0; y < image.rows; ++y) {
        for (int x = 0; x < image.cols; ++x) {
            const float beyond = static_cast<float>(cv::norm(cv::Point2f(x, y) - centre)) - field_radius;
            image(y, x) *= std::clamp(1.0f - beyond / edge, 0.04f, 1.0f);
        }
    }
}

Drawn draw(const Scene & scene) {
    cv::RNG rng(scene.seed);
    const cv::Vec3f skin(rng.uniform(200.f, 235.f), rng.uniform(160.f, 190.f), rng.uniform(140.f, 170.f));
    cv::Mat3f image(scene.size, skin);
    for (int y = 0; y < image.rows; ++y) {  // gentle illumination slope
        for (int x = 0; x < image.cols; ++x) image(y, x) *= 1.0f - 0.08f * static_cast<float>(x) / image.cols;
    }
    Drawn drawn{{}, scene.lesion ? irregular_blob(scene, rng) : cv::Mat1b(scene.size, 0)};
    if (scene.lesion) paint_lesion(image, drawn.lesion, rng);
    if (scene.clutter) add_clutter(image, drawn.lesion, rng);
    add_hairs(image, scene.hairs, rng);
    cv::Mat3f noise(scene.size);
    rng.fill(noise, cv::RNG::NORMAL, 0.0, 6.0);
    image += noise;
    if (scene.vignette) add_vignette(image);
    image.convertTo(drawn.rgb, CV_8UC3);
    return drawn;
}

TEST(LesionMaskSegment, FindsDrawnLesionsOfManyShapesAndPlaces) {
    const std::vector<Scene> scenes = {
        {{320, 240}, 1, true, {0.0, 0.0}, 0.20, true, 0, false},
        {{320, 240}, 2, true, {0.08, -0.05}, 0.15, true, 3, true},
        {{256, 256}, 3, true, {-0.1, 0.08}, 0.18, true, 5, false},
        {{600, 450}, 4, true, {0.05, 0.1}, 0.25, true, 8, true},
        {{400, 300}, 5, true, {-0.06, -0.08}, 0.12, false, 2, true},
        {{1000, 800}, 6, true, {0.1, 0.0}, 0.22, true, 6, true},
        {{180, 180}, 7, true, {0.0, 0.06}, 0.28, true, 1, false},
        {{500, 375}, 8, true, {-0.12, 0.1}, 0.10, true, 4, true},
    };
    for (const Scene & scene : scenes) {
        const Drawn drawn = draw(scene);
        const LesionMask found = segment_lesion(drawn.rgb);
        SCOPED_TRACE(testing::Message() << "seed " << scene.seed << " " << scene.size);
        EXPECT_EQ(found.source, MaskSource::Auto);
        EXPECT_EQ(found.pixels.size(), drawn.rgb.size());
        EXPECT_GT(iou(found.pixels, drawn.lesion), 0.85);
    }
}

TEST(LesionMaskSegment, MaskIsBinary) {
    const Drawn drawn = draw({});
    const LesionMask found = segment_lesion(drawn.rgb);
    EXPECT_EQ(cv::countNonZero(found.pixels == 0) + cv::countNonZero(found.pixels == 255),
              static_cast<int>(found.pixels.total()));
}

TEST(LesionMaskSegment, LesionFreeSkinGivesTheCentredFallbackAndSaysSo) {
    for (unsigned seed : {11u, 12u, 13u}) {
        Scene scene;
        scene.seed = seed;
        scene.lesion = false;
        scene.hairs = static_cast<int>(seed % 3) * 3;
        scene.vignette = seed != 12;
        scene.clutter = seed != 13;
        const Drawn drawn = draw(scene);
        const LesionMask found = segment_lesion(drawn.rgb);
        SCOPED_TRACE(testing::Message() << "seed " << seed);
        EXPECT_EQ(found.source, MaskSource::AutoFallback);
        EXPECT_STREQ(mask_source_name(found.source), "auto-fallback");
        // An ellipse with half axes of a quarter of each side: pi / 16 of the image.
        const double share = cv::countNonZero(found.pixels) / static_cast<double>(found.pixels.total());
        EXPECT_NEAR(share, CV_PI / 16.0, 0.01);
        const cv::Point2d middle = centroid(found.pixels);
        EXPECT_NEAR(middle.x, scene.size.width / 2.0, 1.0);
        EXPECT_NEAR(middle.y, scene.size.height / 2.0, 1.0);
    }
}

TEST(LesionMaskSegment, FlatAndTinyImagesGiveTheFallback) {
    for (const cv::Size size : {cv::Size(240, 180), cv::Size(3, 2), cv::Size(1, 1), cv::Size(4000, 1), cv::Size(1, 3000)}) {
        SCOPED_TRACE(testing::Message() << size);
        const LesionMask found = segment_lesion(cv::Mat3b(size, cv::Vec3b(210, 170, 150)));
        EXPECT_EQ(found.source, MaskSource::AutoFallback);
        EXPECT_EQ(found.pixels.size(), size);
        EXPECT_GT(cv::countNonZero(found.pixels), 0);
    }
}

TEST(LesionMaskSegment, RefusesAnEmptyImageAndBadParameters) {
    expect_error([] { segment_lesion(cv::Mat3b()); }, ErrorKind::InvalidArgument, {"empty"});
    const cv::Mat3b rgb = draw({}).rgb;
    SegmentationParams params;
    params.min_area = 0.5;
    params.max_area = 0.4;
    expect_error([&] { segment_lesion(rgb, params); }, ErrorKind::InvalidArgument, {"areas"});
    params = {};
    params.working_side = 8;
    expect_error([&] { segment_lesion(rgb, params); }, ErrorKind::InvalidArgument, {"working side"});
}

// ---------------------------------------------------------------------------------------
// Real dermoscopic images: no ground truth, so only what any pigmented lesion mask must be.

std::vector<fs::path> images_of(const std::string & label) {
    std::vector<fs::path> images;
    for (const auto & entry : fs::directory_iterator(kIsic / label)) images.push_back(entry.path());
    std::sort(images.begin(), images.end());
    return images;
}

TEST(LesionMaskReal, PigmentedLesionsAreFoundNearTheCentreAndDarkerThanTheSkinAroundThem) {
    if (!fs::exists(kIsic)) GTEST_SKIP() << "shared data folder absent: " << kIsic;
    int checked = 0;
    for (const std::string label : {"melanoma", "nevus"}) {
        for (const fs::path & file : images_of(label)) {
            SCOPED_TRACE(file.string());
            const cv::Mat3b rgb = to_rgb_mat(dermlens::image::load_image(file));
            const LesionMask found = segment_lesion(rgb);
            EXPECT_EQ(found.source, MaskSource::Auto);
            const double share = cv::countNonZero(found.pixels) / static_cast<double>(found.pixels.total());
            EXPECT_GT(share, 0.01);
            EXPECT_LT(share, 0.9);
            const cv::Point2d middle = centroid(found.pixels);
            EXPECT_GT(middle.x, 0.25 * rgb.cols);
            EXPECT_LT(middle.x, 0.75 * rgb.cols);
            EXPECT_GT(middle.y, 0.25 * rgb.rows);
            EXPECT_LT(middle.y, 0.75 * rgb.rows);
            cv::Mat1b grey;
            cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
            const cv::Mat1b around = ring_around(found.pixels, rgb.cols / 20) & (grey > 40);  // skin, not vignette
            EXPECT_LT(cv::mean(grey, found.pixels)[0] + 10.0, cv::mean(grey, around)[0]);
            ++checked;
        }
    }
    EXPECT_GE(checked, 20);
}

// ---------------------------------------------------------------------------------------
// Mask files

cv::Mat1b drawn_mask(cv::Size size) {
    cv::Mat1b mask(size, 0);
    cv::ellipse(mask, {size.width / 2 + 7, size.height / 2 - 5}, {size.width / 4, size.height / 5}, 20.0, 0.0, 360.0,
                cv::Scalar(255), cv::FILLED);
    return mask;
}

TEST(LesionMaskFile, LosslessFormatsRoundTrip) {
    TempDir dir("lesion_mask");
    const cv::Mat1b mask = drawn_mask({180, 140});
    for (const std::string name : {"m.png", "m.bmp", "m.tiff"}) {
        SCOPED_TRACE(name);
        ASSERT_TRUE(cv::imwrite((dir / name).string(), mask));
        const LesionMask loaded = load_mask_file(dir / name, mask.size());
        EXPECT_EQ(loaded.source, MaskSource::File);
        EXPECT_EQ(cv::countNonZero(loaded.pixels != mask), 0);
    }
}

TEST(LesionMaskFile, AnyNonzeroValueOrColourIsLesion) {
    TempDir dir("lesion_mask");
    const cv::Mat1b mask = drawn_mask({160, 120});
    cv::Mat1b faint = mask / 255;  // lesion stored as 1, as label images often are
    ASSERT_TRUE(cv::imwrite((dir / "faint.png").string(), faint));
    EXPECT_EQ(cv::countNonZero(load_mask_file(dir / "faint.png", mask.size()).pixels != mask), 0);

    cv::Mat3b red(mask.size(), cv::Vec3b(0, 0, 0));
    red.setTo(cv::Scalar(0, 0, 200), mask);  // BGR for imwrite: red lesion on black
    ASSERT_TRUE(cv::imwrite((dir / "red.png").string(), red));
    EXPECT_EQ(cv::countNonZero(load_mask_file(dir / "red.png", mask.size()).pixels != mask), 0);
}

TEST(LesionMaskFile, JpegMaskIsThresholdedAtHalfway) {
    TempDir dir("lesion_mask");
    const cv::Mat1b mask = drawn_mask({200, 150});
    ASSERT_TRUE(cv::imwrite((dir / "m.jpg").string(), mask, {cv::IMWRITE_JPEG_QUALITY, 60}));
    // The compression leaves faint nonzero values in the background: "nonzero" would take them.
    const cv::Mat1b decoded = cv::imread((dir / "m.jpg").string(), cv::IMREAD_GRAYSCALE);
    ASSERT_GT(cv::countNonZero(decoded & ~mask), 0);

    const LesionMask loaded = load_mask_file(dir / "m.jpg", mask.size());
    cv::Mat1b near_edge;
    cv::morphologyEx(mask, near_edge, cv::MORPH_GRADIENT, cv::getStructuringElement(cv::MORPH_RECT, {5, 5}));
    EXPECT_EQ(cv::countNonZero((loaded.pixels != mask) & ~near_edge), 0);
    EXPECT_GT(iou(loaded.pixels, mask), 0.97);
}

TEST(LesionMaskFile, SizeMismatchNamesTheFileAndBothSizes) {
    TempDir dir("lesion_mask");
    ASSERT_TRUE(cv::imwrite((dir / "small.png").string(), drawn_mask({200, 100})));
    expect_error([&] { load_mask_file(dir / "small.png", {180, 180}); }, ErrorKind::InvalidInput,
                 {(dir / "small.png").string(), "200x100", "180x180"});
}

TEST(LesionMaskFile, MaskWithoutLesionIsRefused) {
    TempDir dir("lesion_mask");
    ASSERT_TRUE(cv::imwrite((dir / "blank.png").string(), cv::Mat1b(90, 120, uchar{0})));
    expect_error([&] { load_mask_file(dir / "blank.png", {120, 90}); }, ErrorKind::InvalidInput,
                 {(dir / "blank.png").string(), "no lesion pixel"});
}

TEST(LesionMaskFile, MissingAndNonImageFilesAreRefusedByName) {
    TempDir dir("lesion_mask");
    expect_error([&] { load_mask_file(dir / "absent.png", {10, 10}); }, ErrorKind::InvalidInput,
                 {"lesion mask", (dir / "absent.png").string(), "not found"});
    write_file(dir / "notes.png", "this is not an image\n");
    expect_error([&] { load_mask_file(dir / "notes.png", {10, 10}); }, ErrorKind::InvalidInput,
                 {"lesion mask", (dir / "notes.png").string()});
}

// ---------------------------------------------------------------------------------------
// Boxes

TEST(LesionMaskBox, ParsesFourIntegers) {
    const PixelBox box = parse_box(" 10, 20 ,110,220 ");
    EXPECT_EQ(box.x0, 10);
    EXPECT_EQ(box.y0, 20);
    EXPECT_EQ(box.x1, 110);
    EXPECT_EQ(box.y1, 220);
}

TEST(LesionMaskBox, MalformedTextIsRefused) {
    for (const std::string text : {"", "1,2,3", "1,2,3,4,5", "a,b,c,d", "1.5,2,3,4", "1,,3,4", "1;2;3;4", "1,2,3,4,"}) {
        SCOPED_TRACE(text);
        expect_error([&] { parse_box(text); }, ErrorKind::InvalidArgument, {"'" + text + "'", "x0,y0,x1,y1"});
    }
}

TEST(LesionMaskBox, CoversExactlyTheBoxWithExclusiveEnds) {
    const LesionMask mask = box_mask(parse_box("10,20,50,60"), {100, 80});
    EXPECT_EQ(mask.source, MaskSource::Box);
    EXPECT_EQ(mask.pixels.size(), cv::Size(100, 80));
    EXPECT_EQ(cv::countNonZero(mask.pixels), 40 * 40);
    EXPECT_EQ(mask.pixels(20, 10), 255);
    EXPECT_EQ(mask.pixels(59, 49), 255);
    EXPECT_EQ(mask.pixels(60, 49), 0);
    EXPECT_EQ(mask.pixels(59, 50), 0);
    EXPECT_EQ(cv::countNonZero(box_mask(parse_box("0,0,100,80"), {100, 80}).pixels), 100 * 80);
}

TEST(LesionMaskBox, BoxesOutsideTheImageOrEmptyAreRefused) {
    expect_error([] { box_mask(parse_box("0,0,101,80"), {100, 80}); }, ErrorKind::InvalidArgument,
                 {"0,0,101,80", "100x80"});
    expect_error([] { box_mask(parse_box("-1,0,10,10"), {100, 80}); }, ErrorKind::InvalidArgument,
                 {"-1,0,10,10", "100x80"});
    expect_error([] { box_mask(parse_box("0,5,10,81"), {100, 80}); }, ErrorKind::InvalidArgument, {"0,5,10,81"});
    expect_error([] { box_mask(parse_box("30,10,30,20"), {100, 80}); }, ErrorKind::InvalidArgument,
                 {"30,10,30,20", "empty"});
}

// ---------------------------------------------------------------------------------------
// Where a mask comes from

TEST(LesionMaskSpec, FileBeatsBoxBeatsSegmentation) {
    TempDir dir("lesion_mask");
    const Drawn drawn = draw({});
    const cv::Mat1b file_mask = drawn_mask(drawn.rgb.size());
    ASSERT_TRUE(cv::imwrite((dir / "m.png").string(), file_mask));

    MaskSpec spec;
    spec.file = dir / "m.png";
    spec.box = "0,0,10,10";
    const LesionMask from_file = lesion_mask(drawn.rgb, spec);
    EXPECT_EQ(from_file.source, MaskSource::File);
    EXPECT_EQ(cv::countNonZero(from_file.pixels != file_mask), 0);

    spec.file.reset();
    const LesionMask from_box = lesion_mask(drawn.rgb, spec);
    EXPECT_EQ(from_box.source, MaskSource::Box);
    EXPECT_EQ(cv::countNonZero(from_box.pixels), 100);

    spec.box.reset();
    EXPECT_EQ(lesion_mask(drawn.rgb, spec).source, MaskSource::Auto);
}

TEST(LesionMaskSpec, SourceNames) {
    EXPECT_STREQ(mask_source_name(MaskSource::File), "file");
    EXPECT_STREQ(mask_source_name(MaskSource::Box), "box");
    EXPECT_STREQ(mask_source_name(MaskSource::Auto), "auto");
    EXPECT_STREQ(mask_source_name(MaskSource::AutoFallback), "auto-fallback");
}

TEST(LesionMaskSpec, RgbImageBecomesAnRgbMat) {
    dermlens::image::RgbImage image;
    image.width = 2;
    image.height = 1;
    image.rgb = {10, 20, 30, 40, 50, 60};
    const cv::Mat3b mat = to_rgb_mat(image);
    EXPECT_EQ(mat.size(), cv::Size(2, 1));
    EXPECT_EQ(mat(0, 0), cv::Vec3b(10, 20, 30));
    EXPECT_EQ(mat(0, 1), cv::Vec3b(40, 50, 60));
}

// ---------------------------------------------------------------------------------------
// Hiding the lesion

void expect_hidden(const cv::Mat3b & rgb, const cv::Mat1b & lesion) {
    const cv::Mat3b hidden = mask_lesion(rgb, lesion);
    const cv::Mat1b region = dilated_mask(lesion);
    EXPECT_EQ(cv::countNonZero(lesion & ~region), 0) << "the replaced region covers the lesion";

    cv::Mat3b difference;
    cv::absdiff(hidden, rgb, difference);
    cv::Mat1b changed;
    cv::cvtColor(difference, changed, cv::COLOR_RGB2GRAY);
    changed = changed > 0;
    EXPECT_EQ(cv::countNonZero(changed & ~region), 0) << "pixels outside the region changed";

    const cv::Mat1b skin = ring_around(region, std::max(3, rgb.cols / 30));
    const cv::Scalar skin_mean = mean_in(rgb, skin);
    const cv::Scalar fill_mean = mean_in(hidden, region);
    const cv::Scalar lesion_mean = mean_in(rgb, lesion);
    EXPECT_LT(largest_channel_gap(fill_mean, skin_mean), 15.0);
    EXPECT_GT(largest_channel_gap(fill_mean, lesion_mean), 40.0);
}

TEST(LesionMaskHide, FillsTheLesionWithSkinAndLeavesEverythingElse) {
    for (unsigned seed : {21u, 22u}) {
        Scene scene;
        scene.seed = seed;
        scene.size = seed == 21u ? cv::Size(320, 240) : cv::Size(1000, 800);
        scene.vignette = false;
        const Drawn drawn = draw(scene);
        SCOPED_TRACE(testing::Message() << "seed " << seed);
        expect_hidden(drawn.rgb, drawn.lesion);
    }
}

TEST(LesionMaskHide, HidesRealLesionsFoundBySegmentation) {
    if (!fs::exists(kIsic)) GTEST_SKIP() << "shared data folder absent: " << kIsic;
    for (const fs::path & file : images_of("nevus")) {
        SCOPED_TRACE(file.string());
        const cv::Mat3b rgb = to_rgb_mat(dermlens::image::load_image(file));
        expect_hidden(rgb, segment_lesion(rgb).pixels);
    }
}

TEST(LesionMaskHide, IsDeterministic) {
    Scene scene;
    scene.size = {640, 480};
    scene.hairs = 4;
    const Drawn drawn = draw(scene);
    const cv::Mat3b first = mask_lesion(drawn.rgb, drawn.lesion);
    const cv::Mat3b second = mask_lesion(drawn.rgb.clone(), drawn.lesion.clone());
    EXPECT_EQ(cv::norm(first, second, cv::NORM_INF), 0.0);
}

TEST(LesionMaskHide, DilationGrowsByTheRequestedShare) {
    cv::Mat1b dot(200, 400, uchar{0});
    dot(100, 200) = 255;
    MaskingParams params;
    params.dilation = 0.05;  // 20 pixels of the longer side
    const cv::Mat1b region = dilated_mask(dot, params);
    const cv::Rect bounds = cv::boundingRect(region);
    EXPECT_EQ(bounds, cv::Rect(180, 80, 41, 41));
}

TEST(LesionMaskHide, RefusesMismatchedOrEmptyMasks) {
    const cv::Mat3b rgb(100, 120, cv::Vec3b(200, 170, 150));
    expect_error([&] { mask_lesion(rgb, cv::Mat1b(100, 100, uchar{255})); }, ErrorKind::InvalidArgument,
                 {"100x100", "120x100"});
    expect_error([&] { mask_lesion(rgb, cv::Mat1b(100, 120, uchar{0})); }, ErrorKind::InvalidArgument, {"empty"});
    expect_error([&] { mask_lesion(rgb, cv::Mat1b(100, 120, uchar{255})); }, ErrorKind::InvalidArgument,
                 {"whole image"});
    MaskingParams params;
    params.inpaint_side = 4;
    expect_error([&] { mask_lesion(rgb, cv::Mat1b(100, 120, uchar{255}), params); }, ErrorKind::InvalidArgument,
                 {"inpainting side"});
}

}  // namespace
