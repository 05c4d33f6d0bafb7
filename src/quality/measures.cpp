#include "quality/measures.h"

#include "grounding/lesion_mask.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/quality/qualitybrisque.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <mutex>
#include <numbers>
#include <vector>

namespace dermlens::quality {
namespace {

// CIE L*a*b* channels of an 8-bit RGB image (L in 0..100).
std::array<cv::Mat1f, 3> lab_channels(const cv::Mat3b & rgb) {
    cv::Mat3f scaled;
    rgb.convertTo(scaled, CV_32F, 1.0 / 255.0);
    cv::Mat3f lab;
    cv::cvtColor(scaled, lab, cv::COLOR_RGB2Lab);
    std::array<cv::Mat1f, 3> channels;
    cv::split(lab, channels.data());
    return channels;
}

// Crété-Roffet's measure along one axis (rows or columns). Steps below kLeastStep grey levels
// are left out: in a smooth 8-bit gradient the quantisation makes one-level stairs that the box
// blur would smooth, which would make the most blurred image look sharp.
constexpr float kLeastStep = 2.0f;

double blur_along(const cv::Mat1f & grey, bool along_rows) {
    cv::Mat1f blurred;
    cv::blur(grey, blurred, along_rows ? cv::Size(9, 1) : cv::Size(1, 9), {-1, -1}, cv::BORDER_REFLECT);
    // One pass over the step pairs: the variation the steps hold, and what the box blur takes away.
    const int rows = along_rows ? grey.rows : grey.rows - 1;
    const int columns = along_rows ? grey.cols - 1 : grey.cols;
    double variation = 0.0;
    double lost = 0.0;
    for (int row = 0; row < rows; ++row) {
        const float * sharp_here = grey.ptr<float>(row);
        const float * sharp_next = along_rows ? sharp_here + 1 : grey.ptr<float>(row + 1);
        const float * blurred_here = blurred.ptr<float>(row);
        const float * blurred_next = along_rows ? blurred_here + 1 : blurred.ptr<float>(row + 1);
        for (int column = 0; column < columns; ++column) {
            const float sharp_step = std::abs(sharp_next[column] - sharp_here[column]);
            if (sharp_step < kLeastStep) continue;
            variation += sharp_step;
            lost += std::max(sharp_step - std::abs(blurred_next[column] - blurred_here[column]), 0.0f);
        }
    }
    if (variation <= 0.0) return 1.0;  // no step worth the name: nothing is in focus
    return (variation - lost) / variation;
}

}  // namespace

double blur_effect(const cv::Mat1b & grey) {
    if (grey.rows < 2 || grey.cols < 2) return 1.0;
    cv::Mat1f levels;
    grey.convertTo(levels, CV_32F);
    return std::max(blur_along(levels, true), blur_along(levels, false));
}

double noise_sigma(const cv::Mat1b & grey) {
    if (grey.rows < 3 || grey.cols < 3) return 0.0;
    const cv::Mat1f kernel = (cv::Mat1f(3, 3) << 1, -2, 1, -2, 4, -2, 1, -2, 1);
    cv::Mat1f response;
    cv::filter2D(grey, response, CV_32F, kernel);
    const cv::Rect inner(1, 1, grey.cols - 2, grey.rows - 2);
    const double total = cv::sum(cv::abs(response(inner)))[0];
    return total * std::sqrt(std::numbers::pi / 2.0) / (6.0 * inner.area());
}

namespace {

// The largest mean step of the 8 grid phases over the mean of the other seven; `steps` holds
// the mean absolute step after each column (or row) index.
double grid_ratio(const std::vector<double> & steps) {
    std::array<double, 8> sum{};
    std::array<int, 8> count{};
    for (std::size_t i = 0; i < steps.size(); ++i) {
        sum[i % 8] += steps[i];
        ++count[i % 8];
    }
    std::array<double, 8> mean{};
    for (std::size_t phase = 0; phase < 8; ++phase) mean[phase] = count[phase] ? sum[phase] / count[phase] : 0.0;
    const auto worst = std::max_element(mean.begin(), mean.end());
    double others = 0.0;
    for (auto it = mean.begin(); it != mean.end(); ++it) {
        if (it != worst) others += *it;
    }
    others /= 7.0;
    // A tenth of a grey level keeps blocks flat inside (the lowest qualities) from dividing by zero.
    constexpr double kFloor = 0.1;
    return (*worst + kFloor) / (others + kFloor);
}

// Mean absolute step between column i and i + 1 (after_columns) or row i and i + 1. The steps
// stay 8-bit (absdiff is exact) and are summed as integers: this reads the full-resolution image,
// the gate's largest, so it makes no wider copies of it.
std::vector<double> mean_steps(const cv::Mat1b & grey, bool after_columns) {
    const cv::Rect first = after_columns ? cv::Rect(0, 0, grey.cols - 1, grey.rows) : cv::Rect(0, 0, grey.cols, grey.rows - 1);
    const cv::Rect second = after_columns ? cv::Rect(1, 0, grey.cols - 1, grey.rows) : cv::Rect(0, 1, grey.cols, grey.rows - 1);
    cv::Mat1b steps;
    cv::absdiff(grey(second), grey(first), steps);
    cv::Mat1i sums;
    cv::reduce(steps, sums, after_columns ? 0 : 1, cv::REDUCE_SUM, CV_32S);
    const double count = after_columns ? steps.rows : steps.cols;
    std::vector<double> means;
    means.reserve(sums.total());
    for (const int sum : sums) means.push_back(sum / count);
    return means;
}

}  // namespace

double blockiness(const cv::Mat1b & grey) {
    if (grey.rows < 16 || grey.cols < 16) return 1.0;
    return (grid_ratio(mean_steps(grey, true)) + grid_ratio(mean_steps(grey, false))) / 2.0;
}

double luma_quantile(const cv::Mat1b & grey, double share) {
    if (grey.empty()) return 0.0;
    std::array<std::size_t, 256> histogram{};
    for (int row = 0; row < grey.rows; ++row) {  // row pointers: a MatIterator costs more than the count
        const uchar * level = grey.ptr<uchar>(row);
        for (int column = 0; column < grey.cols; ++column) ++histogram[level[column]];
    }
    const double wanted = std::clamp(share, 0.0, 1.0) * static_cast<double>(grey.total());
    std::size_t below = 0;
    for (int level = 0; level < 256; ++level) {
        below += histogram[static_cast<std::size_t>(level)];
        if (static_cast<double>(below) >= wanted && below > 0) return level;
    }
    return 255.0;
}

double rms_contrast(const cv::Mat1b & grey) {
    cv::Scalar mean;
    cv::Scalar deviation;
    cv::meanStdDev(grey, mean, deviation);
    return deviation[0];
}

double clipped_share(const cv::Mat3b & rgb, int highest) {
    std::array<cv::Mat1b, 3> channels;
    cv::split(rgb, channels.data());
    const cv::Mat1b dimmest = cv::min(cv::min(channels[0], channels[1]), channels[2]);
    return static_cast<double>(cv::countNonZero(dimmest >= highest)) / std::max<std::size_t>(1, rgb.total());
}

double colour_cast(const cv::Mat3b & rgb, double lowest_hue_degrees, double highest_hue_degrees) {
    // OpenCV's 8-bit CIELAB (L * 255 / 100, a + 128, b + 128) is table-driven, several times faster
    // than the float conversion; its rounding averages out over the picture's mean.
    cv::Mat3b lab;
    cv::cvtColor(rgb, lab, cv::COLOR_RGB2Lab);
    cv::Mat1b lightness;
    cv::extractChannel(lab, lightness, 0);
    // Near black (a vignette, shadow) and clipped pixels carry no colour of the scene: L* in (8, 97).
    const cv::Mat1b used = (lightness > 8.0 * 2.55) & (lightness < 97.0 * 2.55);
    if (cv::countNonZero(used) == 0) return 0.0;
    const cv::Scalar mean = cv::mean(lab, used);
    const double a = mean[1] - 128.0;
    const double b = mean[2] - 128.0;
    const double hue = std::atan2(b, a) * 180.0 / std::numbers::pi;
    if (hue >= lowest_hue_degrees && hue <= highest_hue_degrees) return 0.0;
    // The distance to the nearer of the wedge's two edge rays.
    double nearest = std::hypot(a, b);
    for (double edge : {lowest_hue_degrees, highest_hue_degrees}) {
        const double angle = edge * std::numbers::pi / 180.0;
        const double along = a * std::cos(angle) + b * std::sin(angle);
        if (along > 0.0) nearest = std::min(nearest, std::abs(-a * std::sin(angle) + b * std::cos(angle)));
    }
    return nearest;
}

// Chai & Ngan's ranges, Cb widened from 127 to 145: dermoscopy's polarised light is bluer than
// the daylight their rule was fitted on (the shared ISIC images' median Cb is 125, a tenth above 150).
constexpr std::array<int, 2> kSkinCr{133, 173};
constexpr std::array<int, 2> kSkinCb{77, 145};

double skin_share(const cv::Mat3b & rgb) {
    cv::Mat3b ycrcb;
    cv::cvtColor(rgb, ycrcb, cv::COLOR_RGB2YCrCb);
    cv::Mat1b skin;
    cv::inRange(ycrcb, cv::Scalar(0, kSkinCr[0], kSkinCb[0]), cv::Scalar(255, kSkinCr[1], kSkinCb[1]), skin);
    std::array<cv::Mat1b, 3> channels;
    cv::split(ycrcb, channels.data());
    const cv::Mat1b lit = channels[0] > 30;
    const int counted = cv::countNonZero(lit);
    if (counted == 0) return 0.0;
    return static_cast<double>(cv::countNonZero(skin & lit)) / counted;
}

// BRISQUE's features come from 7x7 windows at two scales (OpenCV's quality module): below
// this side there is nothing to score, and OpenCV's downscaling would assert.
constexpr int kLeastBrisqueSide = 32;

std::optional<double> brisque(const cv::Mat1b & grey, const std::filesystem::path & folder) {
    if (std::min(grey.cols, grey.rows) < kLeastBrisqueSide) return std::nullopt;
    static std::mutex loading;
    static std::map<std::filesystem::path, cv::Ptr<cv::quality::QualityBRISQUE>> models;
    cv::Ptr<cv::quality::QualityBRISQUE> model;
    {
        std::lock_guard lock(loading);
        auto & loaded = models[folder];
        if (!loaded) {
            const auto model_file = folder / "brisque_model_live.yml";
            const auto range_file = folder / "brisque_range_live.yml";
            std::error_code error;
            if (!std::filesystem::is_regular_file(model_file, error) || !std::filesystem::is_regular_file(range_file, error)) {
                return std::nullopt;
            }
            loaded = cv::quality::QualityBRISQUE::create(model_file.string(), range_file.string());
        }
        model = loaded;
    }
    return model->compute(grey)[0];
}

constexpr int kLeastSegmentedSide = 16;

namespace {

double median_of(const cv::Mat1f & values) {
    std::vector<float> sorted(values.begin(), values.end());
    const auto middle = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
    std::nth_element(sorted.begin(), middle, sorted.end());
    return *middle;
}

// Grey levels of the colour distance image per ΔE unit: the segmentation's contrast rule
// (grounding::SegmentationParams::min_contrast, in levels) then reads in ΔE units times this.
constexpr double kLevelsPerColourUnit = 3.0;

}  // namespace

cv::Mat3b colour_distance_image(const cv::Mat3b & rgb, double levels_per_unit) {
    std::array<cv::Mat1f, 3> channels = lab_channels(rgb);
    cv::Mat1f squared(rgb.size(), 0.0f);
    for (cv::Mat1f & channel : channels) {
        const cv::Mat1f difference = channel - median_of(channel);
        squared += difference.mul(difference);
    }
    cv::Mat1f distance;
    cv::sqrt(squared, distance);
    cv::Mat1b grey;
    cv::Mat1f(255.0f - static_cast<float>(levels_per_unit) * distance).convertTo(grey, CV_8U);  // saturates at 0
    cv::Mat3b replicated;
    cv::cvtColor(grey, replicated, cv::COLOR_GRAY2RGB);
    return replicated;
}

std::optional<cv::Mat1b> framing_lesion(const cv::Mat3b & rgb) {
    if (std::min(rgb.cols, rgb.rows) < kLeastSegmentedSide) return std::nullopt;  // too few pixels to find one
    grounding::SegmentationParams params;
    params.max_border_share = 1.0;  // a lesion the frame cuts is what the framing checks look for
    grounding::LesionMask mask = grounding::segment_lesion(rgb, params);
    if (mask.source == grounding::MaskSource::Auto) return mask.pixels;
    params.min_contrast = kLeastLesionColourDistance * kLevelsPerColourUnit;
    mask = grounding::segment_lesion(colour_distance_image(rgb, kLevelsPerColourUnit), params);
    if (mask.source == grounding::MaskSource::Auto) return mask.pixels;
    return std::nullopt;
}

Framing lesion_framing(const cv::Mat3b & rgb) {
    Framing framing;
    framing.cut_share = 1.0;  // until a lesion is found
    framing.off_centre = 1.0;
    const std::optional<cv::Mat1b> lesion = framing_lesion(rgb);
    if (!lesion) return framing;
    const cv::Mat1b & pixels = *lesion;
    framing.found = true;
    framing.area_share = static_cast<double>(cv::countNonZero(pixels)) / pixels.total();
    cv::Mat1b inner;
    cv::erode(pixels, inner, cv::Mat(), {-1, -1}, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
    const cv::Mat1b outline = pixels & ~inner;
    cv::Mat1b frame(pixels.size(), 0);
    cv::rectangle(frame, cv::Rect({0, 0}, frame.size()), cv::Scalar(255), 1);
    framing.cut_share = static_cast<double>(cv::countNonZero(outline & frame)) / std::max(1, cv::countNonZero(outline));
    const cv::Moments moments = cv::moments(pixels, true);
    const cv::Point2d centre(pixels.cols / 2.0, pixels.rows / 2.0);
    framing.off_centre = cv::norm(cv::Point2d(moments.m10 / moments.m00, moments.m01 / moments.m00) - centre) /
                         cv::norm(centre);
    return framing;
}

}  // namespace dermlens::quality
