#include "probe/lbfgs.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <vector>

namespace dermlens::probe {
namespace {

constexpr double kSufficientDecrease = 1e-4;  // c1 of the Wolfe conditions
constexpr double kCurvature = 0.9;            // c2, the usual value for quasi-Newton methods
constexpr int kMaxLineSearchEvaluations = 60;
constexpr double kRoundingGradient = 1e-8;    // about sqrt(machine epsilon)

// A trial point of the line search phi(t) = f(x + t d).
struct Trial {
    double t = 0.0;
    double f = 0.0;
    double slope = 0.0;  // phi'(t) = gradient(x + t d) . d
};

// The minimiser of the cubic through two trials (N&W eq. 3.59), kept inside the
// middle 80% of the bracket; bisection when the cubic has no usable minimiser.
double interpolate(const Trial & a, const Trial & b) {
    const double lo = std::min(a.t, b.t);
    const double hi = std::max(a.t, b.t);
    const double d1 = a.slope + b.slope - 3.0 * (a.f - b.f) / (a.t - b.t);
    const double radicand = d1 * d1 - a.slope * b.slope;
    double t = 0.5 * (lo + hi);
    if (radicand >= 0.0) {
        const double d2 = std::copysign(std::sqrt(radicand), b.t - a.t);
        const double candidate = b.t - (b.t - a.t) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2);
        if (std::isfinite(candidate)) {
            t = candidate;
        }
    }
    const double margin = 0.1 * (hi - lo);
    return std::clamp(t, lo + margin, hi - margin);
}

class LineSearch {
public:
    LineSearch(const Objective & f, const Eigen::VectorXd & x, double f0, const Eigen::VectorXd & direction,
               double slope0)
        : f_(f), x_(x), d_(direction), f0_(f0), slope0_(slope0), point_(x.size()), gradient_(x.size()) {}

    // A step satisfying the strong Wolfe conditions; false when none was found.
    bool search(double t_initial) {
        Trial previous{0.0, f0_, slope0_};
        double t = t_initial;
        for (int i = 0; i < kMaxLineSearchEvaluations; ++i) {
            const Trial current = evaluate(t);
            if (!std::isfinite(current.f) || current.f > f0_ + kSufficientDecrease * t * slope0_ ||
                (i > 0 && current.f >= previous.f)) {
                return zoom(previous, current);
            }
            if (std::abs(current.slope) <= -kCurvature * slope0_) {
                return true;
            }
            if (current.slope >= 0.0) {
                return zoom(current, previous);
            }
            previous = current;
            t *= 2.0;
        }
        return false;
    }

    const Eigen::VectorXd & point() const { return point_; }
    const Eigen::VectorXd & gradient() const { return gradient_; }
    double value() const { return value_; }

private:
    Trial evaluate(double t) {
        point_ = x_ + t * d_;
        value_ = f_(point_, gradient_);
        evaluations_++;
        return {t, value_, gradient_.dot(d_)};
    }

    // N&W algorithm 3.6: lo satisfies sufficient decrease, and the minimiser lies between lo and hi.
    bool zoom(Trial lo, Trial hi) {
        while (evaluations_ < kMaxLineSearchEvaluations) {
            if (std::abs(hi.t - lo.t) <= 1e-16 * std::max(1.0, std::abs(lo.t))) {
                break;
            }
            const Trial trial = evaluate(interpolate(lo, hi));
            if (!std::isfinite(trial.f) || trial.f > f0_ + kSufficientDecrease * trial.t * slope0_ || trial.f >= lo.f) {
                hi = trial;
                continue;
            }
            if (std::abs(trial.slope) <= -kCurvature * slope0_) {
                return true;
            }
            if (trial.slope * (hi.t - lo.t) >= 0.0) {
                hi = lo;
            }
            lo = trial;
        }
        // The bracket collapsed: take lo when it lowered f (the Wolfe curvature test aside).
        if (lo.t > 0.0 && lo.f < f0_) {
            evaluate(lo.t);
            return true;
        }
        return false;
    }

    const Objective & f_;
    const Eigen::VectorXd & x_;
    const Eigen::VectorXd & d_;
    double f0_;
    double slope0_;
    Eigen::VectorXd point_;
    Eigen::VectorXd gradient_;
    double value_ = 0.0;
    int evaluations_ = 0;
};

struct Correction {
    Eigen::VectorXd s;  // step
    Eigen::VectorXd y;  // change of gradient
    double rho;         // 1 / (y . s)
};

// N&W algorithm 7.4: the direction -H g from the stored corrections, H0 = gamma I.
Eigen::VectorXd direction(const std::deque<Correction> & history, const Eigen::VectorXd & gradient) {
    Eigen::VectorXd q = -gradient;
    std::vector<double> alpha(history.size());
    for (std::size_t i = history.size(); i-- > 0;) {
        alpha[i] = history[i].rho * history[i].s.dot(q);
        q -= alpha[i] * history[i].y;
    }
    if (!history.empty()) {
        const Correction & last = history.back();
        q *= last.s.dot(last.y) / last.y.squaredNorm();
    }
    for (std::size_t i = 0; i < history.size(); ++i) {
        const double beta = history[i].rho * history[i].y.dot(q);
        q += (alpha[i] - beta) * history[i].s;
    }
    return q;
}

}  // namespace

LbfgsResult minimize_lbfgs(const Objective & f, Eigen::VectorXd & x, const LbfgsOptions & options) {
    LbfgsResult result;
    Eigen::VectorXd gradient(x.size());
    result.value = f(x, gradient);
    std::deque<Correction> history;
    int stalled = 0;
    for (result.iterations = 0; result.iterations < options.max_iterations; ++result.iterations) {
        result.gradient_max = gradient.size() == 0 ? 0.0 : gradient.lpNorm<Eigen::Infinity>();
        if (result.gradient_max <= options.gradient_tolerance) {
            result.converged = true;
            return result;
        }
        Eigen::VectorXd d = direction(history, gradient);
        double slope = gradient.dot(d);
        if (!(slope < 0.0)) {  // not a descent direction: restart from steepest descent
            history.clear();
            d = -gradient;
            slope = gradient.dot(d);
        }
        // The first step (and a restart) is scaled so that it moves x by at most 1 per component.
        const double t0 = history.empty() ? std::min(1.0, 1.0 / d.lpNorm<Eigen::Infinity>()) : 1.0;
        LineSearch line(f, x, result.value, d, slope);
        if (!line.search(t0)) {
            if (history.empty()) {
                // Even steepest descent cannot lower f: its changes are below rounding. That is a minimum to
                // machine precision when the gradient is as small as that rounding lets it be.
                result.converged = result.gradient_max <= kRoundingGradient * std::max(1.0, std::abs(result.value));
                return result;
            }
            history.clear();
            continue;
        }
        Correction correction{line.point() - x, line.gradient() - gradient, 0.0};
        const double decrease = result.value - line.value();
        x = line.point();
        gradient = line.gradient();
        const double previous = result.value;
        result.value = line.value();
        const double sy = correction.s.dot(correction.y);
        if (sy > std::numeric_limits<double>::epsilon() * correction.y.squaredNorm()) {
            correction.rho = 1.0 / sy;
            history.push_back(std::move(correction));
            if (static_cast<int>(history.size()) > options.memory) {
                history.pop_front();
            }
        }
        const bool tiny = decrease <= options.stall_tolerance * std::max(std::abs(previous), std::abs(result.value));
        stalled = tiny ? stalled + 1 : 0;
        if (stalled >= options.stall_iterations) {
            result.gradient_max = gradient.lpNorm<Eigen::Infinity>();
            result.converged = true;
            ++result.iterations;
            return result;
        }
    }
    result.gradient_max = gradient.size() == 0 ? 0.0 : gradient.lpNorm<Eigen::Infinity>();
    return result;
}

}  // namespace dermlens::probe
