#include "distortions.h"

#include "quality/measures.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace dermlens::test {

const std::vector<Distortion> & distortions() {
    static const std::vector<Distortion> all = {
        {"gaussian-blur", "blur"},       {"motion-blur", "blur"},       {"gamma-darken", "underexposure"},
        {"gamma-brighten", "overexposure"}, {"gain", "clipping"},      {"contrast", "contrast"},
        {"noise", "noise"},              {"colour-cast", "colour_cast"}, {"jpeg", "jpeg_blocking"},
        {"downscale", "resolution"},     {"lesion-crop", "lesion_in_frame"}};
    return all;
}

namespace {

int longer(const cv::Mat3b & rgb) { return std::max(rgb.cols, rgb.rows); }

cv::Mat3b mapped(const cv::Mat3b & rgb, const std::array<double, 3> & gain, double gamma) {
    std::array<cv::Mat, 3> tables;
    for (std::size_t c = 0; c < 3; ++c) {
        tables[c] = cv::Mat(1, 256, CV_8U);
        for (int level = 0; level < 256; ++level) {
            const double value = 255.0 * std::pow(level / 255.0, gamma) * gain[c];
            tables[c].at<uchar>(level) = cv::saturate_cast<uchar>(value);
        }
    }
    cv::Mat table;
    cv::merge(tables.data(), 3, table);
    cv::Mat3b out;
    cv::LUT(rgb, table, out);
    return out;
}

cv::Mat3b motion_blurred(const cv::Mat3b & rgb, int length) {
    cv::Mat1f kernel(1, std::max(1, length), 1.0f / std::max(1, length));
    cv::Mat3b out;
    cv::filter2D(rgb, out, -1, kernel, {-1, -1}, 0.0, cv::BORDER_REFLECT);
    return out;
}

cv::Mat3b noisy(const cv::Mat3b & rgb, double sigma) {
    cv::RNG rng(12345);
    cv::Mat3f noise(rgb.size());
    rng.fill(noise, cv::RNG::NORMAL, 0.0, sigma);
    cv::Mat3f levels;
    rgb.convertTo(levels, CV_32F);
    cv::Mat3b out;
    cv::Mat(levels + noise).convertTo(out, CV_8U);
    return out;
}

cv::Mat3b jpeg(const cv::Mat3b & rgb, int quality) {
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    std::vector<uchar> bytes;
    cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, quality});
    cv::Mat decoded = cv::imdecode(bytes, cv::IMREAD_COLOR);
    cv::Mat3b out;
    cv::cvtColor(decoded, out, cv::COLOR_BGR2RGB);
    return out;
}

cv::Mat3b low_contrast(const cv::Mat3b & rgb, double keep) {
    const cv::Scalar mean = cv::mean(rgb);
    cv::Mat3b out;
    cv::Mat3b flat(rgb.size(), cv::Vec3b(cv::saturate_cast<uchar>(mean[0]), cv::saturate_cast<uchar>(mean[1]),
                                          cv::saturate_cast<uchar>(mean[2])));
    cv::addWeighted(rgb, keep, flat, 1.0 - keep, 0.0, out);
    return out;
}

// The image cut so that a growing part of its lesion (as the gate finds it) lies outside:
// grade g keeps the side with more room and moves the cut from the lesion's far edge
// (g = 1: a fifth of it cut) to its near edge (g = kGrades: none of it left).
std::optional<cv::Mat3b> lesion_cropped(const cv::Mat3b & rgb, int grade) {
    const std::optional<cv::Mat1b> lesion = quality::framing_lesion(rgb);
    if (!lesion) return std::nullopt;
    const cv::Rect box = cv::boundingRect(*lesion);
    const double share = static_cast<double>(grade) / kGrades;
    if (box.x >= rgb.cols - (box.x + box.width)) {  // more room on the left: keep the left part
        const int cut = static_cast<int>(std::lround(box.x + box.width * (1.0 - share)));
        return rgb(cv::Rect(0, 0, std::max(cut, 1), rgb.rows)).clone();
    }
    const int cut = static_cast<int>(std::lround(box.x + box.width * share));
    return rgb(cv::Rect(cut, 0, rgb.cols - cut, rgb.rows)).clone();
}

}  // namespace

std::optional<cv::Mat3b> distorted(const cv::Mat3b & rgb, const std::string & name, int grade) {
    if (grade == 0) return rgb.clone();
    const double g = grade;
    if (name == "gaussian-blur") {
        cv::Mat3b out;
        cv::GaussianBlur(rgb, out, {}, 0.004 * g * longer(rgb));
        return out;
    }
    if (name == "motion-blur") return motion_blurred(rgb, static_cast<int>(std::lround(0.015 * g * longer(rgb))));
    if (name == "gamma-darken") return mapped(rgb, {1, 1, 1}, 1.0 + 0.6 * g);
    if (name == "gamma-brighten") return mapped(rgb, {1, 1, 1}, 1.0 / (1.0 + 0.6 * g));
    if (name == "gain") return mapped(rgb, {1.0 + 0.3 * g, 1.0 + 0.3 * g, 1.0 + 0.3 * g}, 1.0);
    if (name == "contrast") return low_contrast(rgb, 1.0 - 0.18 * g);
    if (name == "noise") return noisy(rgb, 5.0 * g);
    if (name == "colour-cast") return mapped(rgb, {1.0 - 0.1 * g, 1.0, 1.0 + 0.15 * g}, 1.0);
    if (name == "jpeg") {
        static const std::array<int, kGrades> qualities{40, 20, 10, 5, 2};
        return jpeg(rgb, qualities[static_cast<std::size_t>(grade - 1)]);
    }
    if (name == "downscale") {
        cv::Mat3b out;
        const double scale = std::pow(0.5, g);
        cv::resize(rgb, out, {}, scale, scale, cv::INTER_AREA);
        return out;
    }
    if (name == "lesion-crop") return lesion_cropped(rgb, grade);
    throw std::invalid_argument("unknown distortion " + name);
}

}  // namespace dermlens::test
