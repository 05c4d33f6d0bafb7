// Metrics on hand-computed cases and the bootstrap's properties (the scikit-learn comparison is in
// test_metrics_sklearn.cpp and tests/probe/test_sklearn_reference.cpp).
#include "dermlens/error.h"
#include "metrics/metrics.h"
#include "support/expect_error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace {

using namespace dermlens::metrics;
using dermlens::ErrorKind;
using dermlens::test::expect_error;
using testing::ElementsAre;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(Metrics, AccuracyF1AndBalancedAccuracy) {
    const std::vector<int> truth = {0, 0, 0, 0, 1, 1, 2};
    const std::vector<int> predicted = {0, 0, 0, 1, 1, 0, 3};
    EXPECT_DOUBLE_EQ(accuracy(truth, predicted), 4.0 / 7.0);
    // F1 per class over {0, 1, 2, 3}: 0: 2*3/(6+1+1) = 0.75; 1: 2/(2+1+1) = 0.5; 2: 0; 3: 0.
    EXPECT_DOUBLE_EQ(macro_f1(truth, predicted), (0.75 + 0.5) / 4.0);
    // Recall over the true classes {0, 1, 2}: 3/4, 1/2, 0.
    EXPECT_DOUBLE_EQ(balanced_accuracy(truth, predicted), (0.75 + 0.5 + 0.0) / 3.0);
    expect_error([&] { accuracy(truth, {0}); }, ErrorKind::InvalidArgument, {"7 labels but 1 predictions"});
    expect_error([] { accuracy({}, {}); }, ErrorKind::InvalidArgument, {"no rows"});
}

TEST(Metrics, MacroPrecisionAndRecallCountUndefinedRatiosAsZero) {
    const std::vector<int> truth = {0, 0, 1, 1, 1};
    const std::vector<int> predicted = {0, 1, 1, 1, 2};
    // class 0: tp 1, fp 0, fn 1; class 1: tp 2, fp 1, fn 1; class 2 (only predicted): tp 0, fp 1, fn 0.
    EXPECT_DOUBLE_EQ(macro_precision(truth, predicted), (1.0 + 2.0 / 3.0 + 0.0) / 3.0);
    EXPECT_DOUBLE_EQ(macro_recall(truth, predicted), (0.5 + 2.0 / 3.0 + 0.0) / 3.0);  // recall of class 2 is 0 / 0
    EXPECT_DOUBLE_EQ(macro_f1(truth, predicted), (2.0 / 3.0 + 2.0 / 3.0 + 0.0) / 3.0);
    EXPECT_DOUBLE_EQ(balanced_accuracy(truth, predicted), (0.5 + 2.0 / 3.0) / 2.0);  // true classes only
    EXPECT_DOUBLE_EQ(macro_precision({3, 3}, {3, 3}), 1.0);
    expect_error([] { macro_recall({0, 1}, {0}); }, ErrorKind::InvalidArgument, {"2 labels but 1 predictions"});
}

TEST(Metrics, ConfusionMatrixHasTruthInRowsAndPredictionsInColumns) {
    const Eigen::MatrixXi matrix = confusion_matrix({0, 0, 1, 2, 2, 2}, {0, 1, 1, 2, 0, 2}, 4);
    const Eigen::MatrixXi expected{{1, 1, 0, 0}, {0, 1, 0, 0}, {1, 0, 2, 0}, {0, 0, 0, 0}};
    EXPECT_EQ(matrix, expected);
    expect_error([] { confusion_matrix({0, 1}, {0, 4}, 4); }, ErrorKind::InvalidArgument,
                 {"predicted class 4 of row 1", "[0, 4)"});
    expect_error([] { confusion_matrix({-1}, {0}, 4); }, ErrorKind::InvalidArgument, {"true class -1 of row 0"});
    expect_error([] { confusion_matrix({0}, {0, 0}, 4); }, ErrorKind::InvalidArgument, {"1 labels but 2"});
}

TEST(Metrics, ReliabilityBinsAreRightClosedAndTheFirstHoldsZero) {
    const std::vector<double> confidence = {0.0, 0.2, 0.2000001, 0.5, 0.55, 1.0, 0.9};
    const std::vector<bool> correct = {true, false, true, true, false, true, false};
    const auto bins = reliability_bins(confidence, correct, 5);
    ASSERT_EQ(bins.size(), 5u);
    EXPECT_DOUBLE_EQ(bins[1].lower, 0.2);
    EXPECT_DOUBLE_EQ(bins[1].upper, 0.4);
    EXPECT_EQ(bins[0].count, 2u);  // 0 and 0.2
    EXPECT_DOUBLE_EQ(bins[0].mean_confidence, 0.1);
    EXPECT_DOUBLE_EQ(bins[0].accuracy, 0.5);
    EXPECT_EQ(bins[1].count, 1u);  // just above 0.2
    EXPECT_DOUBLE_EQ(bins[1].accuracy, 1.0);
    EXPECT_EQ(bins[2].count, 2u);
    EXPECT_DOUBLE_EQ(bins[2].mean_confidence, 0.525);
    EXPECT_EQ(bins[3].count, 0u);
    EXPECT_TRUE(std::isnan(bins[3].mean_confidence));
    EXPECT_TRUE(std::isnan(bins[3].accuracy));
    EXPECT_EQ(bins[4].count, 2u);  // 0.9 and 1
    EXPECT_DOUBLE_EQ(bins[4].mean_confidence, 0.95);
    const double ece = 2.0 / 7 * 0.4 + 1.0 / 7 * (1.0 - 0.2000001) + 2.0 / 7 * 0.025 + 2.0 / 7 * 0.45;
    EXPECT_NEAR(expected_calibration_error(confidence, correct, 5), ece, 1e-15);
    EXPECT_DOUBLE_EQ(expected_calibration_error(bins), expected_calibration_error(confidence, correct, 5));
}

TEST(Metrics, EveryBinEdgeBelongsToTheBinBelowIt) {
    // k / B is the upper edge of bin k - 1 even where k / B * B rounds above k (0.3 * 10 for one).
    for (const std::size_t count : {5u, 10u, 15u, 20u}) {
        for (std::size_t k = 1; k <= count; ++k) {
            const double edge = static_cast<double>(k) / static_cast<double>(count);
            const double above = std::nextafter(edge, 2.0);
            const auto bins = reliability_bins(k < count ? std::vector<double>{edge, above} : std::vector<double>{edge},
                                               k < count ? std::vector<bool>{true, true} : std::vector<bool>{true},
                                               count);
            EXPECT_EQ(bins[k - 1].count, 1u) << k << " / " << count;
            if (k < count) {
                EXPECT_EQ(bins[k].count, 1u) << "just above " << k << " / " << count;
            }
        }
    }
}

TEST(Metrics, CalibrationRefusesInvalidConfidences) {
    expect_error([] { reliability_bins({0.5, 0.5}, {true}, 10); }, ErrorKind::InvalidArgument, {"1 labels but 2"});
    expect_error([] { reliability_bins({0.5}, {true}, 0); }, ErrorKind::InvalidArgument, {"0 bins"});
    expect_error([] { reliability_bins({0.5, 1.5}, {true, false}, 10); }, ErrorKind::InvalidArgument,
                 {"confidence 1.5 of row 1", "[0, 1]"});
    expect_error([] { reliability_bins({-0.1}, {true}, 10); }, ErrorKind::InvalidArgument, {"-0.1"});
    expect_error([] { expected_calibration_error({kNaN}, {true}); }, ErrorKind::InvalidArgument, {"nan"});
    expect_error([] { expected_calibration_error({}, {}); }, ErrorKind::InvalidArgument, {"no rows"});
    expect_error([] { expected_calibration_error(std::vector<CalibrationBin>(3)); }, ErrorKind::InvalidArgument,
                 {"no rows"});
}

// The mean of `values` over the resampled indices.
double resample_mean(const std::vector<double> & values, const std::vector<std::size_t> & indices) {
    double sum = 0.0;
    for (const std::size_t i : indices) {
        sum += values[i];
    }
    return sum / static_cast<double>(indices.size());
}

// 0, 1/n, ..., (n-1)/n: spread evenly over [0, 1).
std::vector<double> spread_values(std::size_t n) {
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i) {
        values[i] = static_cast<double>(i) / static_cast<double>(n);
    }
    return values;
}

TEST(Bootstrap, IsDeterministicForASeedAndChangesWithIt) {
    const std::vector<double> values = spread_values(200);
    const auto mean = [&](const std::vector<std::size_t> & indices) { return resample_mean(values, indices); };
    const Interval first = bootstrap_interval(values.size(), mean, 7);
    const Interval again = bootstrap_interval(values.size(), mean, 7);
    const Interval other = bootstrap_interval(values.size(), mean, 8);
    EXPECT_EQ(first.low, again.low);
    EXPECT_EQ(first.high, again.high);
    EXPECT_NE(first.low, other.low);
}

TEST(Bootstrap, IntervalOfAMeanHasTheNormalWidthAndContainsTheSampleMean) {
    double previous_width = 0.0;
    for (const std::size_t n : {1600u, 400u, 100u}) {
        const std::vector<double> values = spread_values(n);
        const auto mean = [&](const std::vector<std::size_t> & indices) { return resample_mean(values, indices); };
        const Interval interval = bootstrap_interval(n, mean, 42);
        const double sample_mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(n);
        EXPECT_LT(interval.low, sample_mean) << n;
        EXPECT_GT(interval.high, sample_mean) << n;
        // The 95 % interval of a mean is about 2 x 1.96 standard errors wide; the standard deviation
        // of values spread evenly over [0, 1) is about sqrt(1/12).
        const double width = interval.high - interval.low;
        EXPECT_NEAR(width, 2 * 1.96 * std::sqrt(1.0 / 12.0 / static_cast<double>(n)), 0.15 * width) << n;
        EXPECT_GT(width, 1.5 * previous_width) << n << " samples: narrower with more";
        previous_width = width;
    }
}

TEST(Bootstrap, EndpointsArePercentilesInterpolatedLikeNumpy) {
    // A statistic that ignores the resample and counts 0, 1, ..., 999: numpy.percentile(range(1000),
    // [2.5, 97.5]) is [24.975, 974.025]; an 80 % interval is [99.9, 899.1].
    double next = 0.0;
    const auto counter = [&](const std::vector<std::size_t> &) { return next++; };
    const Interval interval = bootstrap_interval(10, counter, 1);
    EXPECT_NEAR(interval.low, 24.975, 1e-9);
    EXPECT_NEAR(interval.high, 974.025, 1e-9);
    next = 0.0;
    const Interval eighty = bootstrap_interval(10, counter, 1, 1000, 0.8);
    EXPECT_NEAR(eighty.low, 99.9, 1e-9);
    EXPECT_NEAR(eighty.high, 899.1, 1e-9);
}

TEST(Bootstrap, LeavesOutUndefinedStatistics) {
    // Resamples holding index 0 are "undefined" (as ROC-AUC without both classes); the rest give 1.
    const auto statistic = [](const std::vector<std::size_t> & indices) {
        return std::find(indices.begin(), indices.end(), 0u) != indices.end() ? kNaN : 1.0;
    };
    const Interval interval = bootstrap_interval(3, statistic, 5);
    EXPECT_EQ(interval.low, 1.0);
    EXPECT_EQ(interval.high, 1.0);
    const Interval undefined = bootstrap_interval(1, statistic, 5);  // every resample is {0}
    EXPECT_TRUE(std::isnan(undefined.low));
    EXPECT_TRUE(std::isnan(undefined.high));
}

TEST(Bootstrap, RefusesInvalidArguments) {
    const auto constant = [](const std::vector<std::size_t> &) { return 1.0; };
    expect_error([&] { bootstrap_interval(0, constant, 1); }, ErrorKind::InvalidArgument, {"0 samples"});
    expect_error([&] { bootstrap_interval(5, constant, 1, 0); }, ErrorKind::InvalidArgument, {"0 resamples"});
    for (const double confidence : {0.0, 1.0, -0.5, kNaN}) {
        expect_error([&] { bootstrap_interval(5, constant, 1, 100, confidence); }, ErrorKind::InvalidArgument,
                     {"confidence", "(0, 1)"});
    }
}

TEST(Metrics, RocAucCountsTiesAsOneHalf) {
    // sklearn's documented example: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    EXPECT_DOUBLE_EQ(binary_roc_auc({false, false, true, true}, Eigen::Vector4d(0.1, 0.4, 0.35, 0.8)), 0.75);
    EXPECT_DOUBLE_EQ(binary_roc_auc({false, true}, Eigen::Vector2d(0.5, 0.5)), 0.5);
    EXPECT_DOUBLE_EQ(binary_roc_auc({false, true, true}, Eigen::Vector3d(0.2, 0.2, 0.9)), 0.75);
    EXPECT_TRUE(std::isnan(binary_roc_auc({true, true}, Eigen::Vector2d(0.1, 0.2))));
}

TEST(Metrics, MacroRocAucAveragesClassesWithBothOutcomes) {
    const Eigen::MatrixXd p{{0.8, 0.1, 0.1}, {0.2, 0.7, 0.1}, {0.3, 0.3, 0.4}, {0.6, 0.3, 0.1}};
    const std::vector<int> truth = {0, 1, 2, 1};
    // class 0: positives {0.8} vs {0.2, 0.3, 0.6}: 1; class 1: {0.7, 0.3} vs {0.1, 0.3}: (1 + 1 + 1 + 0.5)/4;
    // class 2: {0.4} vs {0.1, 0.1, 0.1}: 1.
    EXPECT_DOUBLE_EQ(roc_auc_ovr_macro(truth, p), (1.0 + 0.875 + 1.0) / 3.0);
    // A class absent from truth is left out.
    EXPECT_DOUBLE_EQ(roc_auc_ovr_macro({0, 1, 1, 1}, p), (1.0 + binary_roc_auc({false, true, true, true}, p.col(1))) / 2.0);
}

TEST(Metrics, TopKAndRanking) {
    const Eigen::MatrixXd p{{0.2, 0.5, 0.3}, {0.4, 0.2, 0.4}};
    EXPECT_THAT(ranked_classes(p.row(0)), ElementsAre(1u, 2u, 0u));
    EXPECT_THAT(ranked_classes(p.row(1)), ElementsAre(0u, 2u, 1u));  // ties keep class order
    EXPECT_THAT(argmax_rows(p), ElementsAre(1, 0));
    EXPECT_DOUBLE_EQ(top_k_accuracy({0, 2}, p, 1), 0.0);
    EXPECT_DOUBLE_EQ(top_k_accuracy({0, 2}, p, 2), 0.5);
    EXPECT_DOUBLE_EQ(top_k_accuracy({0, 2}, p, 3), 1.0);
    EXPECT_DOUBLE_EQ(top_k_accuracy({0, 2}, p, 10), 1.0);
}

TEST(Metrics, SetsAndSummaries) {
    const std::vector<std::vector<std::size_t>> sets = {{0, 1}, {2}, {1, 2, 0}};
    EXPECT_DOUBLE_EQ(set_coverage({1, 0, 0}, sets), 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(mean_set_size(sets), 2.0);
    const MeanStd summary = mean_std({1.0, 2.0, 3.0, std::nan("")});
    EXPECT_DOUBLE_EQ(summary.mean, 2.0);
    EXPECT_DOUBLE_EQ(summary.std, 1.0);
    EXPECT_DOUBLE_EQ(mean_std({4.0}).std, 0.0);
}

TEST(Metrics, SetStatisticsOverallPerClassAndPerSize) {
    // Truth 1, 0, 0, 2 with sets of sizes 2, 1, 3, 0: covered, missed, covered, missed.
    const std::vector<int> truth{1, 0, 0, 2};
    const std::vector<std::vector<std::size_t>> sets = {{0, 1}, {2}, {1, 2, 0}, {}};
    const SetStatistics all = set_statistics(truth, sets);
    EXPECT_EQ(all.rows, 4u);
    EXPECT_DOUBLE_EQ(all.coverage, 0.5);
    EXPECT_DOUBLE_EQ(all.mean_size, 1.5);
    EXPECT_DOUBLE_EQ(all.median_size, 1.5);  // sizes 0 1 2 3: the mean of the middle two
    EXPECT_DOUBLE_EQ(all.empty_share, 0.25);
    EXPECT_DOUBLE_EQ(all.singleton_share, 0.25);
    EXPECT_DOUBLE_EQ(set_statistics({0, 0, 0}, {{0}, {0, 1, 2}, {1, 2}}).median_size, 2.0);
    const auto per_class = set_statistics_per_class(truth, sets, 4);
    EXPECT_EQ(per_class[0].rows, 2u);
    EXPECT_DOUBLE_EQ(per_class[0].coverage, 0.5);
    EXPECT_DOUBLE_EQ(per_class[0].mean_size, 2.0);
    EXPECT_DOUBLE_EQ(per_class[1].coverage, 1.0);
    EXPECT_DOUBLE_EQ(per_class[2].coverage, 0.0);
    EXPECT_EQ(per_class[3].rows, 0u);
    EXPECT_TRUE(std::isnan(per_class[3].coverage));
    const auto by_size = coverage_by_set_size(truth, sets);
    ASSERT_EQ(by_size.size(), 4u);
    EXPECT_EQ(by_size[0].size, 0u);
    EXPECT_DOUBLE_EQ(by_size[0].coverage, 0.0);
    EXPECT_EQ(by_size[1].size, 1u);
    EXPECT_DOUBLE_EQ(by_size[1].coverage, 0.0);
    EXPECT_EQ(by_size[3].size, 3u);
    EXPECT_DOUBLE_EQ(by_size[3].coverage, 1.0);
    EXPECT_THROW(set_statistics_per_class(truth, sets, 2), dermlens::Error);  // class 2 of 2
    EXPECT_THROW(set_statistics({1}, sets), dermlens::Error);
}

}  // namespace
