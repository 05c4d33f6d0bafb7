// Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., algorithms 7.4
// and 7.5) with a strong-Wolfe line search (algorithms 3.5 and 3.6, cubic interpolation),
// for smooth objectives such as the logistic-regression loss.
#pragma once

#include <Eigen/Core>

#include <functional>

namespace dermlens::probe {

struct LbfgsOptions {
    int memory = 10;                     // correction pairs kept
    int max_iterations = 5000;
    double gradient_tolerance = 1e-10;   // stop when max |gradient component| <= this
    double stall_tolerance = 1e-15;      // ... or when stall_iterations iterations in a row each
    int stall_iterations = 10;           //     lower f by <= stall_tolerance * |f| (machine precision)
};

struct LbfgsResult {
    double value = 0.0;
    double gradient_max = 0.0;  // max |gradient component| at the end
    int iterations = 0;
    // true: the gradient or stall criterion was met, or no step lowers f any more (its changes are
    // below rounding) while max |gradient| <= 1e-8 * max(1, |f|); false: max_iterations reached, or
    // f cannot be lowered with a larger gradient than that.
    bool converged = false;
};

// Returns f(x) and writes its gradient into `gradient` (already sized like x).
using Objective = std::function<double(const Eigen::VectorXd & x, Eigen::VectorXd & gradient)>;

// Minimises f from `x`, which holds the minimiser found on return.
LbfgsResult minimize_lbfgs(const Objective & f, Eigen::VectorXd & x, const LbfgsOptions & options = {});

}  // namespace dermlens::probe
