// Multinomial logistic regression: the optimality conditions of its objective,
// warm starts, cross-validation, and refused input.
#include "dermlens/error.h"
#include "probe/logreg.h"
#include "synthetic.h"

#include <gtest/gtest.h>

namespace {

using namespace dermlens::probe;
using dermlens::test::gaussian_classes;

// The gradient of sum_i CE_i + ||W||^2 / (2C) at the fitted model, per weight and per bias.
void expect_optimal(const LinearModel & model, const Eigen::MatrixXd & x, const std::vector<int> & y, double c,
                    double tolerance) {
    Eigen::MatrixXd residual = model.probabilities(x);
    for (std::size_t i = 0; i < y.size(); ++i) {
        residual(static_cast<Eigen::Index>(i), y[i]) -= 1.0;
    }
    const Eigen::MatrixXd grad_w = residual.transpose() * x + model.weights / c;
    const Eigen::VectorXd grad_b = residual.colwise().sum().transpose();
    const double n = static_cast<double>(y.size());
    EXPECT_LT(grad_w.cwiseAbs().maxCoeff() / n, tolerance);
    EXPECT_LT(grad_b.cwiseAbs().maxCoeff() / n, tolerance);
}

TEST(LogReg, ReachesTheOptimumOfItsObjective) {
    const auto data = gaussian_classes(240, 20, 4, 0.5, 2);
    const Eigen::MatrixXd x = data.features.cast<double>();
    for (const double c : {1e-5, 1e-2, 1.0, 10.0}) {
        const LogRegFit fit = fit_logreg(x, data.classes, 4, c);
        EXPECT_TRUE(fit.solver.converged) << c;
        expect_optimal(fit.model, x, data.classes, c, 1e-8);
        // At the optimum of a penalised softmax, each feature's weights sum to zero over the classes.
        EXPECT_LT(fit.model.weights.colwise().sum().cwiseAbs().maxCoeff(), 1e-6) << c;
    }
}

TEST(LogReg, WarmStartsReachTheSameOptimum) {
    const auto data = gaussian_classes(150, 10, 3, 0.6, 4);
    const Eigen::MatrixXd x = data.features.cast<double>();
    const LogRegFit cold = fit_logreg(x, data.classes, 3, 0.5);
    const LogRegFit warm_from = fit_logreg(x, data.classes, 3, 0.05);
    const LogRegFit warm = fit_logreg(x, data.classes, 3, 0.5, {}, &warm_from.model);
    EXPECT_LT((cold.model.probabilities(x) - warm.model.probabilities(x)).cwiseAbs().maxCoeff(), 1e-7);
}

TEST(LogReg, ProbabilitiesAreASoftmax) {
    const auto data = gaussian_classes(90, 5, 3, 1.0, 8);
    const Eigen::MatrixXd x = data.features.cast<double>();
    const Eigen::MatrixXd p = fit_logreg(x, data.classes, 3, 1.0).model.probabilities(x);
    EXPECT_LT((p.rowwise().sum().array() - 1.0).abs().maxCoeff(), 1e-12);
    EXPECT_GT(p.minCoeff(), 0.0);
}

TEST(LogReg, CrossValidationPicksFromTheGrid) {
    const auto data = gaussian_classes(100, 8, 2, 0.8, 1);
    const CrossValidation cv = cross_validate_c(data.features.cast<double>(), data.classes, 2, {10.0, 0.1, 1.0}, 4);
    EXPECT_EQ(cv.grid, (std::vector<double>{0.1, 1.0, 10.0}));  // sorted ascending
    EXPECT_EQ(cv.mean_scores.size(), 3u);
    EXPECT_EQ(cv.folds, 4u);
    EXPECT_NE(std::find(cv.grid.begin(), cv.grid.end(), cv.best_c), cv.grid.end());
    for (const double score : cv.mean_scores) {
        EXPECT_GT(score, 0.5);
        EXPECT_LE(score, 1.0);
    }
}

TEST(LogReg, RefusesBadInput) {
    const Eigen::MatrixXd x = Eigen::MatrixXd::Ones(3, 2);
    EXPECT_THROW(fit_logreg(x, {0, 1, 0}, 2, 0.0), dermlens::Error);
    EXPECT_THROW(fit_logreg(x, {0, 1}, 2, 1.0), dermlens::Error);
    EXPECT_THROW(fit_logreg(x, {0, 1, 2}, 2, 1.0), dermlens::Error);
    EXPECT_THROW(cross_validate_c(x, {0, 1, 0}, 2, {}, 2), dermlens::Error);
}

}  // namespace
