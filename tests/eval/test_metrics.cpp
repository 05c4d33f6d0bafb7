// Metrics on hand-computed cases (the scikit-learn comparison is in test_sklearn_reference.cpp).
#include "dermlens/error.h"
#include "eval/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace {

using namespace dermlens::eval;
using testing::ElementsAre;

TEST(Metrics, AccuracyF1AndBalancedAccuracy) {
    const std::vector<int> truth = {0, 0, 0, 0, 1, 1, 2};
    const std::vector<int> predicted = {0, 0, 0, 1, 1, 0, 3};
    EXPECT_DOUBLE_EQ(accuracy(truth, predicted), 4.0 / 7.0);
    // F1 per class over {0, 1, 2, 3}: 0: 2*3/(6+1+1) = 0.75; 1: 2/(2+1+1) = 0.5; 2: 0; 3: 0.
    EXPECT_DOUBLE_EQ(macro_f1(truth, predicted), (0.75 + 0.5) / 4.0);
    // Recall over the true classes {0, 1, 2}: 3/4, 1/2, 0.
    EXPECT_DOUBLE_EQ(balanced_accuracy(truth, predicted), (0.75 + 0.5 + 0.0) / 3.0);
    EXPECT_THROW(accuracy(truth, {0}), dermlens::Error);
    EXPECT_THROW(accuracy({}, {}), dermlens::Error);
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

}  // namespace
