// The image-quality gate on real images (issue 18, "What must show it" 5): the shared
// clinical, dermoscopic (HAM10000, ISIC) photos, undistorted and distorted at graded strengths
// (tests/quality/distortions.h). Each distortion's own check must grow worse with the grade
// (Spearman >= 0.9 between grade and the median score over the images), the undistorted
// images must get through the gate (not rejected) at >= 95 %, and the strongest grade must be
// rejected for the distortion's own reason at >= 90 %. Images are reduced to 512 pixels (the
// gate's working side) first, and a subset is used, to keep the test quick.
#include "distortions.h"

#include "grounding/lesion_mask.h"
#include "image/image.h"
#include "quality/gate.h"
#include "quality/modality.h"
#include "quality/thresholds.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace dermlens;
using dermlens::test::kGrades;

const fs::path kImages = fs::path(DERMLENS_SHARED_DIR) / "data" / "images";

quality::Thresholds thresholds() {
    return quality::load_thresholds(fs::path(DERMLENS_SOURCE_DIR) / "data" / "quality" / "thresholds.json");
}

// Every `step`-th image under `folder`, reduced to 512 pixels on the longer side.
void add_images(std::vector<cv::Mat3b> & images, const fs::path & folder, std::size_t step) {
    const auto files = quality::image_files(folder);
    for (std::size_t i = 0; i < files.size(); i += step) {
        cv::Mat3b rgb = grounding::to_rgb_mat(image::load_image(files[i]));
        const double scale = 512.0 / std::max(rgb.cols, rgb.rows);
        if (scale < 1.0) cv::resize(rgb, rgb, {}, scale, scale, cv::INTER_AREA);
        images.push_back(rgb);
    }
}

const std::vector<cv::Mat3b> & photos() {
    static const std::vector<cv::Mat3b> images = [] {
        std::vector<cv::Mat3b> found;
        add_images(found, kImages / "clinical" / "pad-ufes-20", 5);
        add_images(found, kImages / "ham10000", 1);
        add_images(found, kImages / "isic9class", 8);
        return found;
    }();
    return images;
}

// Average ranks (ties share their mean rank).
std::vector<double> ranks(const std::vector<double> & values) {
    std::vector<std::size_t> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
    std::vector<double> result(values.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
        for (std::size_t k = i; k <= j; ++k) result[order[k]] = (i + j) / 2.0 + 1.0;
        i = j + 1;
    }
    return result;
}

double spearman(const std::vector<double> & x, const std::vector<double> & y) {
    const auto rx = ranks(x);
    const auto ry = ranks(y);
    const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / rx.size();
    const double my = std::accumulate(ry.begin(), ry.end(), 0.0) / ry.size();
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (std::size_t i = 0; i < rx.size(); ++i) {
        sxy += (rx[i] - mx) * (ry[i] - my);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - my) * (ry[i] - my);
    }
    return sxx == 0.0 || syy == 0.0 ? 0.0 : sxy / std::sqrt(sxx * syy);
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

TEST(QualityValidation, RanksAsScipyDoesOnTies) {
    EXPECT_EQ(ranks({3, 1, 3, 2}), (std::vector<double>{3.5, 1, 3.5, 2}));
    EXPECT_NEAR(spearman({1, 2, 3, 4}, {10, 20, 20, 40}), 0.9486832980505138, 1e-12);  // scipy.stats.spearmanr
}

TEST(QualityValidation, UndistortedPhotosGetThrough) {
    const quality::Thresholds all = thresholds();
    std::size_t rejected = 0;
    std::size_t passed = 0;
    std::map<std::string, int> reasons;
    for (const cv::Mat3b & photo : photos()) {
        const QualityReport report = quality::assess(photo, all, "photo");
        rejected += report.overall == QualityVerdict::Reject;
        passed += report.overall == QualityVerdict::Pass;
        for (const QualityCheck & check : report.checks) {
            if (check.verdict != QualityVerdict::Pass) ++reasons[check.name + ":" + quality_verdict_name(check.verdict)];
        }
    }
    const double through = 1.0 - static_cast<double>(rejected) / photos().size();
    std::printf("undistorted: %zu photos, %.1f %% not rejected, %.1f %% pass outright\n", photos().size(),
                100.0 * through, 100.0 * passed / photos().size());
    for (const auto & [reason, count] : reasons) std::printf("  %s %d\n", reason.c_str(), count);
    EXPECT_GE(through, 0.95);
}

// One distortion: each photo's score of the distortion's check at every grade.
class DistortionValidation : public ::testing::TestWithParam<dermlens::test::Distortion> {};

TEST_P(DistortionValidation, CheckScoreGrowsWithStrengthAndRejectsTheStrongest) {
    const auto & [name, check] = GetParam();
    quality::Thresholds only = thresholds();
    std::erase_if(only.checks, [&](const quality::CheckThresholds & c) { return c.name != check; });
    ASSERT_EQ(only.checks.size(), 1u);
    const bool worse_above = only.checks.front().worse_above;

    std::vector<std::vector<double>> scores(kGrades + 1);  // per grade, over the photos
    std::vector<double> per_photo_spearman;
    std::size_t strongest = 0;
    std::size_t strongest_rejected = 0;
    for (const cv::Mat3b & photo : photos()) {
        std::vector<double> grades;
        std::vector<double> badness;
        std::vector<double> photo_scores;
        for (int grade = 0; grade <= kGrades; ++grade) {
            const auto image = dermlens::test::distorted(photo, name, grade);
            if (!image) break;
            const QualityReport report = quality::assess(*image, only, "distorted");
            photo_scores.push_back(report.checks.front().score);
            if (grade == kGrades) {
                ++strongest;
                strongest_rejected += report.overall == QualityVerdict::Reject;
            }
        }
        if (photo_scores.size() != kGrades + 1) continue;  // the distortion does not apply to this photo
        for (int grade = 0; grade <= kGrades; ++grade) {
            grades.push_back(grade);
            badness.push_back(worse_above ? photo_scores[grade] : -photo_scores[grade]);
            scores[grade].push_back(badness.back());
        }
        per_photo_spearman.push_back(spearman(grades, badness));
    }
    ASSERT_GE(strongest, photos().size() / 2) << name << " applies to too few photos";
    std::vector<double> grades(kGrades + 1);
    std::iota(grades.begin(), grades.end(), 0.0);
    std::vector<double> medians;
    for (const auto & grade_scores : scores) medians.push_back(median(grade_scores));
    const double rho = spearman(grades, medians);
    const double mean_rho = std::accumulate(per_photo_spearman.begin(), per_photo_spearman.end(), 0.0) /
                            per_photo_spearman.size();
    const double rejected_share = static_cast<double>(strongest_rejected) / strongest;
    std::printf("%-15s %-15s photos %3zu  Spearman(grade, median) %.3f  mean per photo %.3f  strongest rejected %.1f %%\n",
                name.c_str(), check.c_str(), strongest, rho, mean_rho, 100.0 * rejected_share);
    EXPECT_GE(rho, 0.9) << name;
    EXPECT_GE(rejected_share, 0.9) << name;
}

INSTANTIATE_TEST_SUITE_P(Distortions, DistortionValidation, ::testing::ValuesIn(dermlens::test::distortions()),
                         [](const auto & info) {
                             std::string name = info.param.name;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

}  // namespace
