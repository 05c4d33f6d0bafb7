// Synthetic distortions at graded strengths for the image-quality gate's validation
// (issue 18, "What must show it" 5) and its benchmark: grade 0 is the image itself, grades
// 1..kGrades ever stronger. Lengths are shares of the image's longer side, so that a grade
// means the same on every image size. Images are cv::Mat3b in R, G, B order.
#pragma once

#include <opencv2/core.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace dermlens::test {

inline constexpr int kGrades = 5;

struct Distortion {
    std::string name;   // "gaussian-blur", ...
    std::string check;  // the gate's check that must see it
};

inline void PrintTo(const Distortion & distortion, std::ostream * out) { *out << distortion.name; }  // for gtest

// Every distortion of the validation, with the check each must trip.
const std::vector<Distortion> & distortions();

// `rgb` distorted by `name` at `grade` (0..kGrades); nullopt when the distortion does not
// apply (the lesion crop of an image whose lesion was not found).
std::optional<cv::Mat3b> distorted(const cv::Mat3b & rgb, const std::string & name, int grade);

}  // namespace dermlens::test
