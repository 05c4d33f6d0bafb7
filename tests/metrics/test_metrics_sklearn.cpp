// The metrics of eval/metrics.h against scikit-learn (Debian's python3-sklearn) and, for
// calibration, an independent numpy implementation (tests/metrics/metrics_reference.py), on
// randomised predictions: 2 to 9 classes, several seeds, a class never predicted, a class absent
// from truth (but predicted), probabilities with ties (multiples of 1/12) and without.
#include "common/random.h"
#include "metrics/metrics.h"
#include "support/python_reference.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <set>
#include <random>
#include <string>
#include <vector>

namespace {

namespace metrics = dermlens::metrics;
using nlohmann::json;

struct Case {
    std::size_t classes = 0;
    std::vector<int> truth, predicted;
    Eigen::MatrixXd probabilities;
    std::vector<double> confidence;
    std::vector<bool> correct;
    std::size_t bins = 0;
};

// Each row: a class, then probabilities that lean towards it; tied cases share 12 units among the
// classes, so equal scores are frequent within columns and rows.
Eigen::RowVectorXd probability_row(std::mt19937_64 & rng, std::size_t classes, int truth, bool tied) {
    Eigen::RowVectorXd row = Eigen::RowVectorXd::Zero(static_cast<Eigen::Index>(classes));
    if (tied) {
        for (int unit = 0; unit < 12; ++unit) {
            const bool towards_truth = dermlens::uniform_unit(rng) < 0.3;
            row(towards_truth ? truth : static_cast<Eigen::Index>(dermlens::uniform_index(rng, classes))) += 1.0;
        }
        return row / 12.0;
    }
    for (Eigen::Index c = 0; c < row.size(); ++c) {
        row(c) = std::exp(3.0 * dermlens::uniform_unit(rng) + (c == truth ? 1.5 : 0.0));
    }
    return row / row.sum();
}

// The most likely class that may be predicted (the first of equal ones).
int prediction(const Eigen::RowVectorXd & row, int never_predicted) {
    int best = -1;
    for (Eigen::Index c = 0; c < row.size(); ++c) {
        if (c != never_predicted && (best < 0 || row(c) > row(best))) {
            best = static_cast<int>(c);
        }
    }
    return best;
}

Case random_case(std::uint64_t seed, std::size_t classes) {
    std::mt19937_64 rng(seed * 100 + classes);
    Case out;
    out.classes = classes;
    out.bins = 5 * (1 + seed % 3);
    const std::size_t rows = 40 + 15 * classes;
    const bool tied = seed % 2 == 0;
    // From 3 classes on, one class is never predicted; with seed 3 the last class is absent from truth.
    const int never_predicted = classes >= 3 ? static_cast<int>(seed % classes) : -1;
    const std::size_t true_classes = seed == 3 ? classes - 1 : classes;
    out.probabilities.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(classes));
    for (std::size_t i = 0; i < rows; ++i) {
        // The first rows name every true class once, so each has support.
        const int truth = static_cast<int>(i < true_classes ? i : dermlens::uniform_index(rng, true_classes));
        const Eigen::RowVectorXd row = probability_row(rng, classes, truth, tied);
        out.probabilities.row(static_cast<Eigen::Index>(i)) = row;
        out.truth.push_back(truth);
        out.predicted.push_back(prediction(row, never_predicted));
        // Every 7th confidence sits exactly on a bin edge, to pin down which side edges belong to.
        const double edge = static_cast<double>(dermlens::uniform_index(rng, out.bins + 1)) / static_cast<double>(out.bins);
        out.confidence.push_back(i % 7 == 0 ? edge : row(out.predicted.back()));
        out.correct.push_back(out.predicted.back() == truth);
    }
    return out;
}

json as_json(const Case & c) {
    json rows = json::array();
    for (Eigen::Index i = 0; i < c.probabilities.rows(); ++i) {
        rows.push_back(std::vector<double>(c.probabilities.row(i).begin(), c.probabilities.row(i).end()));
    }
    // nlohmann writes doubles in their shortest round-trip form, so Python reads the same values.
    return {{"classes", c.classes}, {"truth", c.truth},           {"predicted", c.predicted}, {"probabilities", rows},
            {"confidence", c.confidence}, {"correct", c.correct}, {"bins", c.bins}};
}

std::vector<std::vector<int>> as_rows(const Eigen::MatrixXi & matrix) {
    std::vector<std::vector<int>> rows;
    for (Eigen::Index i = 0; i < matrix.rows(); ++i) {
        rows.emplace_back(matrix.row(i).begin(), matrix.row(i).end());
    }
    return rows;
}

// NaN (an empty bin) where the reference has null.
void expect_bin_value(double ours, const json & theirs, const std::string & where) {
    if (theirs.is_null()) {
        EXPECT_TRUE(std::isnan(ours)) << where;
    } else {
        EXPECT_NEAR(ours, theirs.get<double>(), 1e-12) << where;
    }
}

void expect_matches(const Case & c, const json & theirs, const std::string & name) {
    EXPECT_NEAR(metrics::accuracy(c.truth, c.predicted), theirs["accuracy"].get<double>(), 1e-12) << name;
    EXPECT_NEAR(metrics::macro_f1(c.truth, c.predicted), theirs["macro_f1"].get<double>(), 1e-12) << name;
    EXPECT_NEAR(metrics::balanced_accuracy(c.truth, c.predicted), theirs["balanced_accuracy"].get<double>(), 1e-12) << name;
    EXPECT_NEAR(metrics::macro_precision(c.truth, c.predicted), theirs["macro_precision"].get<double>(), 1e-12) << name;
    EXPECT_NEAR(metrics::macro_recall(c.truth, c.predicted), theirs["macro_recall"].get<double>(), 1e-12) << name;
    EXPECT_EQ(as_rows(metrics::confusion_matrix(c.truth, c.predicted, c.classes)),
              theirs["confusion_matrix"].get<std::vector<std::vector<int>>>())
        << name;
    if (!theirs["roc_auc"].is_null()) {
        EXPECT_NEAR(metrics::roc_auc_ovr_macro(c.truth, c.probabilities), theirs["roc_auc"].get<double>(), 1e-12) << name;
    }
    const auto bins = metrics::reliability_bins(c.confidence, c.correct, c.bins);
    ASSERT_EQ(bins.size(), c.bins) << name;
    for (std::size_t b = 0; b < bins.size(); ++b) {
        const std::string where = name + ", bin " + std::to_string(b);
        EXPECT_EQ(bins[b].count, theirs["bin_counts"][b].get<std::size_t>()) << where;
        expect_bin_value(bins[b].mean_confidence, theirs["bin_mean_confidence"][b], where);
        expect_bin_value(bins[b].accuracy, theirs["bin_accuracy"][b], where);
    }
    EXPECT_NEAR(metrics::expected_calibration_error(c.confidence, c.correct, c.bins), theirs["ece"].get<double>(), 1e-12)
        << name;
}

TEST(MetricsSklearn, RandomisedPredictionsMatchScikitLearnAndNumpy) {
    std::vector<Case> cases;
    std::vector<std::string> names;
    json input = json::array();
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
        for (std::size_t classes = 2; classes <= 9; ++classes) {
            cases.push_back(random_case(seed, classes));
            names.push_back("seed " + std::to_string(seed) + ", " + std::to_string(classes) + " classes");
            input.push_back(as_json(cases.back()));
        }
    }
    const dermlens::test::TempDir dir("metrics_sklearn");
    std::ofstream(dir / "cases.json") << input.dump();
    const json theirs = dermlens::test::python_reference("tests/metrics/metrics_reference.py", {(dir / "cases.json").string()});
    ASSERT_EQ(theirs.size(), cases.size());
    std::size_t with_auc = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        expect_matches(cases[i], theirs[i], names[i]);
        with_auc += theirs[i]["roc_auc"].is_null() ? 0 : 1;
    }
    // Seed 3 leaves a class out of truth (sklearn refuses ROC-AUC there); every other case is compared.
    EXPECT_EQ(with_auc, cases.size() - 8);
}

// The cases exercise what they claim to: missing classes, ties, edge confidences, shifting metrics.
TEST(MetricsSklearn, CasesCoverMissingClassesTiesAndBinEdges) {
    const Case tied = random_case(2, 6);
    const Eigen::MatrixXi matrix = metrics::confusion_matrix(tied.truth, tied.predicted, 6);
    EXPECT_EQ(matrix.col(2).sum(), 0);  // seed 2 % 6: never predicted
    EXPECT_GT(matrix.diagonal().sum(), 0);
    EXPECT_LT(matrix.diagonal().sum(), static_cast<int>(tied.truth.size()));
    const Eigen::VectorXd column = tied.probabilities.col(0);
    EXPECT_LT(std::set<double>(column.begin(), column.end()).size(), tied.truth.size() / 4);  // many tied scores
    const Case absent = random_case(3, 5);
    EXPECT_EQ(metrics::confusion_matrix(absent.truth, absent.predicted, 5).row(4).sum(), 0);
    EXPECT_GT(metrics::confusion_matrix(absent.truth, absent.predicted, 5).col(4).sum(), 0);  // predicted, never true
    std::size_t on_edges = 0;
    for (const double c : tied.confidence) {
        on_edges += std::abs(c * static_cast<double>(tied.bins) - std::round(c * static_cast<double>(tied.bins))) < 1e-12;
    }
    EXPECT_GT(on_edges, tied.truth.size() / 8);
}

}  // namespace
