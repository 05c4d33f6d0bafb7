// The image-quality gate's parts: its measures on images whose answer is known (noise of a
// known sigma, a sharp image and its blur, JPEG at low quality), the thresholds file's
// checks, the public assess_quality on an Image and its JSON (docs/quality.md).
#include "dermlens/error.h"
#include "dermlens/image.h"
#include "dermlens/quality.h"
#include "quality/gate.h"
#include "quality/measures.h"
#include "quality/modality.h"
#include "quality/thresholds.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <numbers>
#include <optional>
#include <set>
#include <string>

namespace {

namespace fs = std::filesystem;
using namespace dermlens;
using dermlens::test::expect_error;
using dermlens::test::TempDir;
using dermlens::test::write_file;

const fs::path kThresholds = fs::path(DERMLENS_SOURCE_DIR) / "data" / "quality" / "thresholds.json";

// Smooth random structure (noise blurred at a few scales): a texture with edges of many sizes.
cv::Mat1b textured(int side, unsigned seed) {
    cv::RNG rng(seed);
    cv::Mat1f sum(side, side, 0.0f);
    for (double sigma : {1.0, 3.0, 9.0}) {
        cv::Mat1f layer(side, side);
        rng.fill(layer, cv::RNG::NORMAL, 0.0, 60.0);
        cv::GaussianBlur(layer, layer, {}, sigma);
        sum += layer * sigma;
    }
    cv::Mat1b out;
    cv::normalize(sum, sum, 30, 225, cv::NORM_MINMAX);
    sum.convertTo(out, CV_8U);
    return out;
}

TEST(QualityMeasures, NoiseSigmaOfKnownNoiseOnAFlatImage) {
    for (double sigma : {2.0, 5.0, 10.0, 20.0}) {
        cv::Mat1f noise(400, 400);
        cv::RNG(7).fill(noise, cv::RNG::NORMAL, 128.0, sigma);
        cv::Mat1b grey;
        noise.convertTo(grey, CV_8U);
        EXPECT_NEAR(quality::noise_sigma(grey), sigma, 0.05 * sigma + 0.3) << sigma;
    }
    EXPECT_NEAR(quality::noise_sigma(cv::Mat1b(100, 100, uchar(90))), 0.0, 1e-12);
}

TEST(QualityMeasures, BlurEffectGrowsWithBlurAndSeesMotionBlurAlongOneAxis) {
    const cv::Mat1b sharp = textured(256, 3);
    double previous = quality::blur_effect(sharp);
    EXPECT_LT(previous, 0.5);
    for (double sigma : {1.0, 2.0, 4.0}) {
        cv::Mat1b blurred;
        cv::GaussianBlur(sharp, blurred, {}, sigma);
        const double effect = quality::blur_effect(blurred);
        EXPECT_GT(effect, previous) << sigma;
        previous = effect;
    }
    cv::Mat1b streaked;
    cv::blur(sharp, streaked, {15, 1});
    EXPECT_GT(quality::blur_effect(streaked), quality::blur_effect(sharp) + 0.2);
    EXPECT_DOUBLE_EQ(quality::blur_effect(cv::Mat1b(50, 50, uchar(10))), 1.0);  // nothing to see
}

TEST(QualityMeasures, BlockinessIsOneWithoutJpegAndGrowsAsQualityDrops) {
    const cv::Mat1b clean = textured(256, 5);
    EXPECT_NEAR(quality::blockiness(clean), 1.0, 0.1);
    double previous = quality::blockiness(clean);
    for (int jpeg_quality : {30, 10, 3}) {
        std::vector<uchar> bytes;
        cv::imencode(".jpg", clean, bytes, {cv::IMWRITE_JPEG_QUALITY, jpeg_quality});
        const double blocks = quality::blockiness(cv::imdecode(bytes, cv::IMREAD_GRAYSCALE));
        EXPECT_GT(blocks, previous) << jpeg_quality;
        previous = blocks;
    }
    // A crop by 3 pixels shifts the grid: still found.
    std::vector<uchar> bytes;
    cv::imencode(".jpg", clean, bytes, {cv::IMWRITE_JPEG_QUALITY, 5});
    const cv::Mat1b decoded = cv::imdecode(bytes, cv::IMREAD_GRAYSCALE);
    EXPECT_GT(quality::blockiness(decoded(cv::Rect(3, 5, 240, 240)).clone()), 1.5);
}

TEST(QualityMeasures, ExposureContrastClippingSkinAndCast) {
    const cv::Mat3b skin(64, 64, cv::Vec3b(224, 172, 140));  // a light skin tone, R, G, B
    EXPECT_GT(quality::skin_share(skin), 0.99);
    EXPECT_DOUBLE_EQ(quality::colour_cast(skin, -20.0, 80.0), 0.0);
    const cv::Mat3b blue(64, 64, cv::Vec3b(120, 140, 220));
    EXPECT_LT(quality::skin_share(blue), 0.01);
    EXPECT_GT(quality::colour_cast(blue, -20.0, 80.0), 20.0);
    cv::Mat3b half = skin.clone();
    half(cv::Rect(0, 0, 64, 16)).setTo(cv::Vec3b(255, 255, 255));
    EXPECT_DOUBLE_EQ(quality::clipped_share(half, 250), 0.25);
    half(cv::Rect(0, 16, 64, 16)).setTo(cv::Vec3b(255, 200, 180));  // red saturated, not burnt out
    EXPECT_DOUBLE_EQ(quality::clipped_share(half, 250), 0.25);
    cv::Mat1b grey(10, 10, uchar(50));
    grey(cv::Rect(0, 0, 10, 5)).setTo(150);
    EXPECT_DOUBLE_EQ(quality::luma_quantile(grey, 0.05), 50.0);  // the darkest twentieth
    EXPECT_DOUBLE_EQ(quality::luma_quantile(grey, 0.5), 50.0);   // half the pixels are at 50 or below
    EXPECT_DOUBLE_EQ(quality::luma_quantile(grey, 0.75), 150.0);
    EXPECT_DOUBLE_EQ(quality::luma_quantile(grey, 1.0), 150.0);
    EXPECT_DOUBLE_EQ(quality::rms_contrast(grey), 50.0);
}

// Skin with a little sensor noise, and on it a centred disc of `lesion` colour (none when empty).
cv::Mat3b skin_with_disc(std::optional<cv::Vec3b> lesion) {
    cv::Mat3b image(256, 256, cv::Vec3b(224, 172, 140));
    cv::Mat3s noise(image.size());
    cv::RNG(7).fill(noise, cv::RNG::NORMAL, 0.0, 3.0);
    cv::Mat3s levels;
    image.convertTo(levels, CV_16S);
    cv::Mat(levels + noise).convertTo(image, CV_8U);
    if (lesion) cv::circle(image, {128, 128}, 40, cv::Scalar((*lesion)[0], (*lesion)[1], (*lesion)[2]), cv::FILLED);
    return image;
}

TEST(QualityMeasures, FramingFindsDarkAndPaleLesionsButNotPlainSkin) {
    // Darker than the skin (a pigmented lesion) and lighter but yellower (a crust): both found,
    // centred and uncut; the pale one through the colour distance from the skin.
    for (const cv::Vec3b & lesion : {cv::Vec3b(120, 80, 60), cv::Vec3b(245, 225, 150)}) {
        const quality::Framing framing = quality::lesion_framing(skin_with_disc(lesion));
        ASSERT_TRUE(framing.found) << lesion;
        EXPECT_NEAR(framing.area_share, std::numbers::pi * 40 * 40 / (256.0 * 256.0), 0.01) << lesion;
        EXPECT_EQ(framing.cut_share, 0.0) << lesion;
        EXPECT_LT(framing.off_centre, 0.05) << lesion;
    }
    // A disc barely different from the skin (ΔE*ab about 2, under kLeastLesionColourDistance) is no lesion.
    EXPECT_FALSE(quality::lesion_framing(skin_with_disc(cv::Vec3b(228, 174, 141))).found);
    const quality::Framing plain = quality::lesion_framing(skin_with_disc(std::nullopt));
    EXPECT_FALSE(plain.found);
    EXPECT_EQ(plain.cut_share, 1.0);
    // The colour distance image: the skin's median colour is at 255, the disc darker.
    const cv::Mat3b distance = quality::colour_distance_image(skin_with_disc(cv::Vec3b(245, 225, 150)), 3.0);
    EXPECT_GT(distance(5, 5)[0], 230);
    EXPECT_LT(distance(128, 128)[0], 255 - 3 * 20);
}

// BRISQUE needs Debian's opencv-data (its model files); DERMLENS_BRISQUE_FOLDER points elsewhere.
TEST(QualityMeasures, BrisqueGrowsWithBlurWhereItsModelIsInstalled) {
    const cv::Mat1b sharp = textured(256, 11);
    EXPECT_FALSE(quality::brisque(sharp, "/nonexistent/folder").has_value());
    const char * override_folder = std::getenv("DERMLENS_BRISQUE_FOLDER");
    const fs::path folder = override_folder ? override_folder : "/usr/share/opencv4/quality";
    if (!fs::exists(folder / "brisque_model_live.yml")) GTEST_SKIP() << "no BRISQUE model in " << folder << " (opencv-data)";
    cv::Mat1b blurred;
    cv::GaussianBlur(sharp, blurred, {}, 4.0);
    const auto sharp_score = quality::brisque(sharp, folder);
    const auto blurred_score = quality::brisque(blurred, folder);
    ASSERT_TRUE(sharp_score && blurred_score);
    EXPECT_GT(*blurred_score, *sharp_score + 10.0);
}

TEST(QualityThresholds, TheShippedFileNamesEveryCheck) {
    const quality::Thresholds thresholds = quality::load_thresholds(kThresholds);
    ASSERT_EQ(thresholds.checks.size(), quality::known_checks().size());
    for (std::size_t i = 0; i < thresholds.checks.size(); ++i) {
        EXPECT_EQ(thresholds.checks[i].name, quality::known_checks()[i]);
    }
}

TEST(QualityThresholds, BadFilesAreRefusedNamingTheField) {
    TempDir dir("quality");
    const auto refused = [&](const std::string & text, const std::vector<std::string> & needles) {
        const fs::path file = dir.path() / "t.json";
        write_file(file, text);
        expect_error([&] { quality::load_thresholds(file); }, ErrorKind::InvalidInput, needles);
    };
    const std::string head = R"({"format": "dermlens-quality-thresholds", "version": 1, "working_side": 512,
                                 "skin_hues_degrees": [-20, 80], "checks": [)";
    const std::string reasons = R"("warn_reason": "w", "reject_reason": "r")";
    refused("not json", {"t.json", "not a JSON object"});
    refused(R"({"format": "other"})", {"format"});
    refused(head + R"({"name": "sharpness", "worse_when": "above", "warn_at": 1, "reject_at": 2, )" + reasons + "}]}",
            {"checks[0].name", "unknown check 'sharpness'"});
    refused(head + R"({"name": "blur", "worse_when": "above", "warn_at": 0.6, "reject_at": 0.5, )" + reasons + "}]}",
            {"checks[0].reject_at", "above warn_at"});
    refused(head + R"({"name": "blur", "worse_when": "sideways", "warn_at": 0.6, "reject_at": 0.7, )" + reasons + "}]}",
            {"checks[0].worse_when"});
    refused(head + R"({"name": "blur", "worse_when": "above", "warn_at": 0.5, "reject_at": 0.6}]})",
            {"checks[0].warn_reason"});
    refused(head + "]}", {"checks", "non-empty"});
    refused(head + R"({"name": "blur", "worse_when": "above", "warn_at": 0.5, "reject_at": 0.6, "applies_to": ["xray"], )" +
                reasons + "}]}",
            {"checks[0].applies_to", "\"xray\" is not a modality"});
    expect_error([&] { quality::load_thresholds(dir.path() / "absent.json"); }, ErrorKind::InvalidInput,
                 {"absent.json", "cannot be read"});
    QualityParams params;
    params.thresholds = dir.path() / "absent.json";
    expect_error([&] { params.validate(); }, ErrorKind::InvalidArgument, {"absent.json", "no such file"});
    params.thresholds.clear();
    params.modality = "radiograph";
    expect_error([&] { params.validate(); }, ErrorKind::InvalidArgument, {"radiograph", "pathology"});
    params.modality.clear();
    params.modality_library = dir.path() / "absent-library.json";
    expect_error([&] { params.validate(); }, ErrorKind::InvalidArgument, {"absent-library.json", "no such file"});
}

// A pathology slide is not a skin photo: the checks that judge skin do not apply to it (their
// score is null and they pass); the others run. Given, or classified with a modality library.
TEST(QualityGate, TheSkinChecksDoNotApplyToPathology) {
    const std::vector<std::uint8_t> grey(300 * 300 * 3, 128);  // not skin, no lesion: rejected as a skin photo
    const Image image = Image::from_rgb(300, 300, grey, "slide.png");
    const std::set<std::string> skin_checks = {"colour_cast", "lesion_in_frame", "lesion_size", "not_skin"};
    QualityParams params;
    params.modality = "pathology";
    const QualityReport slide = assess_quality(image, params);
    EXPECT_EQ(slide.modality, "pathology");
    EXPECT_EQ(to_json(slide)["modality"], "pathology");
    for (const QualityCheck & check : slide.checks) {
        if (skin_checks.count(check.name)) {
            EXPECT_FALSE(check.score.has_value()) << check.name;
            EXPECT_EQ(check.verdict, QualityVerdict::Pass) << check.name;
        } else {
            EXPECT_TRUE(check.score.has_value() || check.name == "brisque") << check.name;
        }
    }
    // What is left are the checks that judge any picture: a flat grey one is blurred and flat.
    EXPECT_EQ(slide.reasons(QualityVerdict::Reject),
              (std::vector<std::string>{"too blurred to judge the border", "too little contrast to see the lesion"}));
    const QualityReport unknown = assess_quality(image);
    EXPECT_FALSE(to_json(unknown).contains("modality"));
    EXPECT_GT(unknown.reasons(QualityVerdict::Reject).size(), 1u);  // not skin, no lesion, ...

    // Classified: a library whose only pathology reference is this image, the clinical one a skin tone.
    TempDir dir("quality-modality");
    const cv::Mat3b pixels(300, 300, cv::Vec3b(128, 128, 128));
    quality::ModalityLibrary library;
    library.add("pathology", "slide.png", quality::modality_features(pixels));
    library.add("clinical", "skin.png", quality::modality_features(cv::Mat3b(300, 300, cv::Vec3b(224, 172, 140))));
    params.modality.clear();
    params.modality_library = dir.path() / "library.json";
    library.save(params.modality_library);
    EXPECT_EQ(assess_quality(image, params).modality, "pathology");
    quality::ModalityLibrary other;
    other.add("radiograph", "x.png", quality::modality_features(pixels));
    other.save(params.modality_library);
    expect_error([&] { assess_quality(image, params); }, ErrorKind::InvalidInput, {"library.json", "'radiograph'"});
}

TEST(QualityGate, AFlatGreyImageIsRejectedWithItsReasonsInJson) {
    const std::vector<std::uint8_t> grey(300 * 300 * 3, 128);
    const QualityReport report = assess_quality(Image::from_rgb(300, 300, grey, "grey.png"));
    EXPECT_EQ(report.overall, QualityVerdict::Reject);
    const auto json = to_json(report);
    EXPECT_EQ(json["path"], "grey.png");
    EXPECT_EQ(json["overall"], "reject");
    ASSERT_EQ(json["checks"].size(), quality::known_checks().size());
    std::map<std::string, std::string> verdicts;
    for (const auto & check : json["checks"]) verdicts[check["name"]] = check["verdict"];
    EXPECT_EQ(verdicts["contrast"], "reject");
    EXPECT_EQ(verdicts["not_skin"], "reject");
    EXPECT_EQ(verdicts["lesion_in_frame"], "reject");
    EXPECT_EQ(verdicts["resolution"], "pass");
    EXPECT_EQ(verdicts["noise"], "pass");
    EXPECT_NE(to_text(report).find("too little contrast to see the lesion"), std::string::npos) << to_text(report);
    EXPECT_EQ(quality_summary(report).rfind("reject: ", 0), 0u);
}

TEST(QualityGate, TinyAndStripImagesAreJudgedWithoutFailing) {
    const quality::Thresholds all = quality::load_thresholds(kThresholds);
    // The last two are reduced to the working side: a pixel high or wide, they keep that pixel.
    for (const cv::Size size : {cv::Size(1, 1), cv::Size(2, 3), cv::Size(300, 5), cv::Size(7, 400), cv::Size(4000, 1),
                                cv::Size(1, 4000)}) {
        const QualityReport report = quality::assess(cv::Mat3b(size, cv::Vec3b(200, 150, 120)), all, "tiny");
        EXPECT_EQ(report.overall, QualityVerdict::Reject) << size;  // too low resolution, at least
        EXPECT_EQ(report.checks.size(), all.checks.size());
    }
}

TEST(QualityGate, ThresholdsDecidePassWarnAndReject) {
    quality::Thresholds only;
    only.checks.push_back({"resolution", false, 224, 112, "small", "too small", quality::known_modalities()});
    const auto verdict = [&](int side) {
        return quality::assess(cv::Mat3b(side, side + 10, cv::Vec3b(200, 150, 120)), only, "x").overall;
    };
    EXPECT_EQ(verdict(300), QualityVerdict::Pass);
    EXPECT_EQ(verdict(224), QualityVerdict::Warn);  // at the threshold counts
    EXPECT_EQ(verdict(150), QualityVerdict::Warn);
    EXPECT_EQ(verdict(112), QualityVerdict::Reject);
}

}  // namespace
