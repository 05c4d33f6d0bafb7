// Synthetic features for the probe tests: Gaussian classes drawn with our own
// transforms of std::mt19937_64, so every platform sees the same numbers.
#pragma once

#include "common/random.h"
#include "vision/feature_table.h"

#include <Eigen/Core>
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace dermlens::test {

// A standard normal draw (Box-Muller on two uniform draws).
inline double normal(std::mt19937_64 & rng) {
    const double u1 = 1.0 - uniform_unit(rng);  // (0, 1]
    const double u2 = uniform_unit(rng);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

struct Synthetic {
    Eigen::MatrixXf features;
    std::vector<int> classes;
};

// `n` rows cycling through `k` classes; class c's mean is `separation` times a fixed
// random unit-variance direction, plus standard normal noise in every dimension.
inline Synthetic gaussian_classes(std::size_t n, std::size_t d, std::size_t k, double separation, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Eigen::MatrixXd means(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(d));
    for (Eigen::Index c = 0; c < means.rows(); ++c) {
        for (Eigen::Index j = 0; j < means.cols(); ++j) {
            means(c, j) = separation * normal(rng);
        }
    }
    Synthetic out;
    out.features.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<int>(i % k);
        out.classes.push_back(c);
        for (Eigen::Index j = 0; j < means.cols(); ++j) {
            out.features(static_cast<Eigen::Index>(i), j) = static_cast<float>(means(c, j) + normal(rng));
        }
    }
    return out;
}

inline std::string class_name(int c) {
    return fmt::format("class{}", c);
}

// A feature table of the rows, labelled class0, class1, ..., images img0, img1, ...
inline vision::FeatureTable as_table(const Synthetic & data) {
    vision::FeatureTable table;
    table.features = data.features;
    for (std::size_t i = 0; i < data.classes.size(); ++i) {
        table.images.push_back(fmt::format("img{}.jpg", i));
        table.labels.push_back(class_name(data.classes[i]));
        table.splits.emplace_back();
        table.patient_ids.emplace_back();
    }
    return table;
}

}  // namespace dermlens::test
