// dermlens's conformal sets against a NumPy reference written from the papers' definitions
// (tests/probe/conformal_reference.py): on random probability matrices, every score — lac,
// aps, aps-plain, raps with given and with chosen lambda / k_reg, raps-plain — marginal and
// class-conditional, gives the same thresholds and the same sets. The randomised scores'
// uniform draws are dermlens's, handed to the reference with the rows.
#include "probe/calibration.h"
#include "probe/candidates.h"
#include "probe/conformal.h"
#include "support/python_reference.h"
#include "synthetic.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

namespace {

namespace fs = std::filesystem;
using namespace dermlens::probe;
using nlohmann::json;

// Rows of softmax(scale * standard normal logits): a sharp `scale` makes confident rows.
Eigen::MatrixXd random_probabilities(std::size_t rows, std::size_t classes, double scale, std::mt19937_64 & rng) {
    Eigen::MatrixXd p(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(classes));
    for (Eigen::Index i = 0; i < p.rows(); ++i) {
        for (Eigen::Index c = 0; c < p.cols(); ++c) {
            p(i, c) = std::exp(scale * dermlens::test::normal(rng));
        }
        p.row(i) /= p.row(i).sum();
    }
    return p;
}

// Labels drawn from the rows' own probabilities: a calibrated model.
std::vector<int> sampled_labels(const Eigen::MatrixXd & p, std::mt19937_64 & rng) {
    std::vector<int> labels;
    for (Eigen::Index i = 0; i < p.rows(); ++i) {
        double u = dermlens::uniform_unit(rng);
        Eigen::Index c = 0;
        while (c + 1 < p.cols() && (u -= p(i, c)) >= 0) {
            ++c;
        }
        labels.push_back(static_cast<int>(c));
    }
    return labels;
}

json matrix_json(const Eigen::MatrixXd & m) {
    json out = json::array();
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
        std::vector<double> row(static_cast<std::size_t>(m.cols()));
        for (Eigen::Index c = 0; c < m.cols(); ++c) {
            row[static_cast<std::size_t>(c)] = m(i, c);
        }
        out.push_back(std::move(row));
    }
    return out;
}

std::vector<double> draws(std::uint64_t seed, std::size_t n) {
    std::vector<double> out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(uniform_draw(seed, i));
    }
    return out;
}

struct Case {
    std::string score;
    bool per_class = false;
    std::optional<double> lambda;
    std::optional<std::size_t> k_reg;
};

TEST(ConformalReference, SetsEqualTheNumpyReferenceForEveryScore) {
    const std::size_t classes = 6;
    const double alpha = 0.1;
    const std::uint64_t seed = 17;
    const std::vector<Case> cases{{"lac", false, std::nullopt, std::nullopt},
                                  {"aps", false, std::nullopt, std::nullopt},
                                  {"aps-plain", false, std::nullopt, std::nullopt},
                                  {"raps", false, 0.05, 2},
                                  {"raps", false, std::nullopt, std::nullopt},
                                  {"raps-plain", false, 0.1, 1},
                                  {"lac", true, std::nullopt, std::nullopt},
                                  {"aps", true, std::nullopt, std::nullopt}};
    json inputs = json::array();
    std::vector<Calibration> calibrations;
    std::vector<std::vector<std::vector<std::size_t>>> ours;
    for (std::size_t k = 0; k < cases.size(); ++k) {
        const Case & c = cases[k];
        std::mt19937_64 rng(100 + k);
        const double scale = k % 2 == 0 ? 2.5 : 1.0;  // confident and unconfident rows
        const Eigen::MatrixXd calib = random_probabilities(300, classes, scale, rng);
        const std::vector<int> labels = sampled_labels(calib, rng);
        const Eigen::MatrixXd test = random_probabilities(200, classes, scale, rng);
        ConformalOptions options;
        options.params = parse_conformal_score(c.score);
        options.per_class = c.per_class;
        options.lambda = c.lambda;
        options.k_reg = c.k_reg;
        Probe probe;
        probe.classes.resize(classes);
        probe.calibration = calibrate(calib, labels, options, alpha, seed);
        const Calibration & calibration = *probe.calibration;
        CandidateParams params;
        params.mode = CandidateMode::Conformal;
        params.set.min_size = 0;
        params.set.draw_seed = 3;
        ours.push_back(candidate_sets(probe, test, params));
        calibrations.push_back(calibration);

        const ConformalParams & resolved = calibration.params;
        json input = {{"score", conformal_score_kind(resolved.score)},
                      {"randomized", resolved.randomized},
                      {"lambda", c.lambda ? json(*c.lambda) : json(nullptr)},
                      {"k_reg", c.k_reg ? json(*c.k_reg) : json(nullptr)},
                      {"per_class", c.per_class},
                      {"alpha", alpha},
                      {"calib_probabilities", matrix_json(calibration.probabilities)},
                      {"calib_labels", calibration.labels},
                      {"calib_u", draws(seed, calibration.labels.size())},
                      {"test_probabilities", matrix_json(test)},
                      {"test_u", draws(test_draw_stream(seed, 3), 200)}};
        if (resolved.score != ConformalScore::Raps) {
            input["lambda"] = 0.0;
            input["k_reg"] = 0;
        }
        if (calibration.tuning) {
            // The rows dermlens held apart, and the quantile's rows their complement.
            const std::vector<std::size_t> held = raps_tuning_rows(300, seed);
            std::vector<int> tune_labels;
            std::vector<Eigen::Index> index;
            for (const std::size_t r : held) {
                tune_labels.push_back(labels[r]);
                index.push_back(static_cast<Eigen::Index>(r));
            }
            ASSERT_EQ(calibration.labels.size(), 300 - held.size());
            input["tune_probabilities"] = matrix_json(calib(index, Eigen::all));
            input["tune_labels"] = tune_labels;
            input["tune_u"] = draws(raps_tuning_stream(seed), held.size());
        }
        inputs.push_back(std::move(input));
    }
    const fs::path path = fs::temp_directory_path() / fmt::format("dermlens_conformal_reference_{}.json", ::getpid());
    std::ofstream(path) << inputs.dump();
    const json reference = dermlens::test::python_reference("tests/probe/conformal_reference.py", {path.string()});
    fs::remove(path);
    ASSERT_EQ(reference.size(), cases.size());
    for (std::size_t k = 0; k < cases.size(); ++k) {
        SCOPED_TRACE(fmt::format("{}{}", cases[k].score, cases[k].per_class ? " per class" : ""));
        const json & r = reference[k];
        EXPECT_EQ(r["k_reg"].get<std::size_t>(), calibrations[k].params.k_reg);
        EXPECT_EQ(r["lambda"].get<double>(), calibrations[k].params.lambda);
        const std::vector<double> thresholds = calibrations[k].thresholds(alpha, classes);
        for (std::size_t c = 0; c < classes; ++c) {
            if (r["thresholds"][c].is_null()) {
                EXPECT_TRUE(std::isinf(thresholds[c])) << c;
            } else {
                EXPECT_NEAR(r["thresholds"][c].get<double>(), thresholds[c], 1e-12) << c;
            }
        }
        const auto sets = r["sets"].get<std::vector<std::vector<std::size_t>>>();
        std::size_t differ = 0;
        double size = 0.0;
        for (std::size_t i = 0; i < sets.size(); ++i) {
            differ += sets[i] != ours[k][i] ? 1 : 0;
            size += static_cast<double>(ours[k][i].size());
        }
        EXPECT_EQ(differ, 0u);
        // Sets that are neither all empty nor all full: the comparison has something to compare.
        EXPECT_GT(size / 200.0, 0.5);
        EXPECT_LT(size / 200.0, classes - 0.5);
    }
}

}  // namespace
