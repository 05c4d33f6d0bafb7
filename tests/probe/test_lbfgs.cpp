// L-BFGS on functions with known minima.
#include "probe/lbfgs.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

using namespace dermlens::probe;

TEST(Lbfgs, MinimisesAnIllConditionedQuadratic) {
    const int n = 50;
    Eigen::VectorXd scale(n);
    for (int i = 0; i < n; ++i) {
        scale(i) = std::pow(10.0, 4.0 * i / (n - 1));  // condition number 1e4
    }
    const Eigen::VectorXd target = Eigen::VectorXd::LinSpaced(n, -1.0, 1.0);
    const Objective f = [&](const Eigen::VectorXd & x, Eigen::VectorXd & g) {
        const Eigen::VectorXd r = x - target;
        g = scale.cwiseProduct(r);
        return 0.5 * r.dot(g);
    };
    Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
    const LbfgsResult result = minimize_lbfgs(f, x, {});
    EXPECT_TRUE(result.converged);
    EXPECT_LT((x - target).cwiseAbs().maxCoeff(), 1e-8);
}

TEST(Lbfgs, MinimisesRosenbrock) {
    const Objective f = [](const Eigen::VectorXd & x, Eigen::VectorXd & g) {
        double value = 0.0;
        g.setZero();
        for (Eigen::Index i = 0; i + 1 < x.size(); ++i) {
            const double a = x(i + 1) - x(i) * x(i);
            const double b = 1.0 - x(i);
            value += 100.0 * a * a + b * b;
            g(i) += -400.0 * x(i) * a - 2.0 * b;
            g(i + 1) += 200.0 * a;
        }
        return value;
    };
    Eigen::VectorXd x = Eigen::VectorXd::Constant(10, -1.2);
    const LbfgsResult result = minimize_lbfgs(f, x, {});
    EXPECT_TRUE(result.converged);
    EXPECT_LT((x - Eigen::VectorXd::Ones(10)).cwiseAbs().maxCoeff(), 1e-6);
    EXPECT_LT(result.value, 1e-12);
}

TEST(Lbfgs, StopsAtTheIterationLimit) {
    const Objective f = [](const Eigen::VectorXd & x, Eigen::VectorXd & g) {
        g = 2.0 * x;
        g(0) = 2.0 * 1e6 * x(0);
        return x.squaredNorm() + (1e6 - 1.0) * x(0) * x(0);
    };
    Eigen::VectorXd x = Eigen::VectorXd::Ones(3);
    LbfgsOptions options;
    options.max_iterations = 1;
    const LbfgsResult result = minimize_lbfgs(f, x, options);
    EXPECT_FALSE(result.converged);
    EXPECT_EQ(result.iterations, 1);
}

}  // namespace
