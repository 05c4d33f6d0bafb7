// The AdamW linear head of paper 000: convergence, learning-rate choice on the
// validation rows, determinism per seed.
#include "dermlens/error.h"
#include "probe/linear_head.h"
#include "metrics/metrics.h"
#include "synthetic.h"

#include <gtest/gtest.h>

namespace {

using namespace dermlens::probe;
namespace metrics = dermlens::metrics;
using dermlens::test::gaussian_classes;

double head_accuracy(const LinearHead & head, const Eigen::MatrixXf & x, const std::vector<int> & y) {
    return metrics::accuracy(y, metrics::argmax_rows(head.logits(x).cast<double>()));
}

TEST(LinearHead, FitsSeparableData) {
    const auto data = gaussian_classes(600, 32, 5, 1.0, 21);  // well separated classes
    const LinearHead head = train_linear_head(data.features, data.classes, 5, 3e-3f, {}, 0);
    EXPECT_EQ(head.weights.rows(), 5);
    EXPECT_EQ(head.weights.cols(), 32);
    EXPECT_GE(head_accuracy(head, data.features, data.classes), 0.98);
    // Training lowered the loss from the initial head's (one epoch of the smallest rate barely moves).
    LinearHeadParams one_epoch;
    one_epoch.epochs = 1;
    const LinearHead start = train_linear_head(data.features, data.classes, 5, 3e-5f, one_epoch, 0);
    EXPECT_LT(cross_entropy(head, data.features, data.classes), 0.2);
    EXPECT_GT(cross_entropy(start, data.features, data.classes), 1.0);
}

TEST(LinearHead, IsDeterministicPerSeed) {
    const auto data = gaussian_classes(300, 16, 3, 0.5, 2);
    const LinearHead a = train_linear_head(data.features, data.classes, 3, 3e-4f, {}, 7);
    const LinearHead b = train_linear_head(data.features, data.classes, 3, 3e-4f, {}, 7);
    const LinearHead c = train_linear_head(data.features, data.classes, 3, 3e-4f, {}, 8);
    EXPECT_EQ(a.weights, b.weights);
    EXPECT_EQ(a.bias, b.bias);
    EXPECT_NE(a.weights, c.weights);
}

TEST(LinearHead, ChoosesTheLearningRateOnTheValidationRows) {
    const auto train = gaussian_classes(90, 24, 3, 0.8, 3);
    const auto val = gaussian_classes(150, 24, 3, 0.8, 3);  // the same class means (same seed), other rows
    const LearningRateChoice choice = choose_learning_rate(train.features, train.classes, val.features.bottomRows(60),
                                                           {val.classes.end() - 60, val.classes.end()}, 3,
                                                           default_learning_rates(), {}, 0);
    EXPECT_EQ(choice.grid, default_learning_rates());
    ASSERT_EQ(choice.validation_accuracy.size(), 3u);
    EXPECT_NE(std::find(choice.grid.begin(), choice.grid.end(), choice.best), choice.grid.end());
    // With one batch per epoch, 100 steps of 3e-5 barely move the random start: the largest rate wins.
    EXPECT_EQ(choice.best, 3e-3f);
    EXPECT_GT(choice.validation_accuracy[2], choice.validation_accuracy[0]);
    // The kept head is the one trained with the best rate.
    const LinearHead again = train_linear_head(train.features, train.classes, 3, choice.best, {}, 0);
    EXPECT_EQ(choice.head.weights, again.weights);
}

TEST(LinearHead, RefusesBadParameters) {
    const Eigen::MatrixXf x = Eigen::MatrixXf::Ones(4, 2);
    const std::vector<int> y = {0, 1, 0, 1};
    EXPECT_THROW(train_linear_head(x, y, 2, 0.0f, {}, 0), dermlens::Error);
    LinearHeadParams params;
    params.batch_size = 0;
    EXPECT_THROW(train_linear_head(x, y, 2, 1e-3f, params, 0), dermlens::Error);
    EXPECT_THROW(train_linear_head(x, {0, 1, 0, 2}, 2, 1e-3f, {}, 0), dermlens::Error);
    EXPECT_THROW(choose_learning_rate(x, y, x, {}, 2, default_learning_rates(), {}, 0), dermlens::Error);
}

}  // namespace
