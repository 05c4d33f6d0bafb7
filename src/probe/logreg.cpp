#include "probe/logreg.h"

#include "dermlens/error.h"
#include "metrics/metrics.h"
#include "probe/sampling.h"

#include <fmt/format.h>
#include <utility>

#include <algorithm>
#include <cmath>

namespace dermlens::probe {
namespace {

// Row-wise log-softmax of the logits, in place; returns sum_i (logsumexp_i - z_{i,y_i}).
double log_softmax_rows(Eigen::MatrixXd & logits, const std::vector<int> & classes) {
    double loss = 0.0;
    for (Eigen::Index i = 0; i < logits.rows(); ++i) {
        const double top = logits.row(i).maxCoeff();
        const double lse = top + std::log((logits.row(i).array() - top).exp().sum());
        logits.row(i).array() -= lse;
        loss -= logits(i, classes[static_cast<std::size_t>(i)]);
    }
    return loss;
}

}  // namespace

Eigen::MatrixXd softmax_rows(Eigen::MatrixXd logits) {
    for (Eigen::Index i = 0; i < logits.rows(); ++i) {
        const double top = logits.row(i).maxCoeff();
        logits.row(i).array() = (logits.row(i).array() - top).exp();
        logits.row(i) /= logits.row(i).sum();
    }
    return logits;
}

Eigen::MatrixXd LinearModel::probabilities(const Eigen::MatrixXd & features) const {
    Eigen::MatrixXd logits = features * weights.transpose();
    logits.rowwise() += bias.transpose();
    return softmax_rows(std::move(logits));
}

LogRegFit fit_logreg(const Eigen::MatrixXd & features, const std::vector<int> & classes, std::size_t n_classes,
                     double C, const LbfgsOptions & options, const LinearModel * start) {
    const Eigen::Index n = features.rows();
    const Eigen::Index d = features.cols();
    const auto k = static_cast<Eigen::Index>(n_classes);
    if (n == 0 || static_cast<std::size_t>(n) != classes.size()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("logistic regression: {} feature rows for {} labels", n, classes.size()));
    }
    if (!(C > 0.0) || !std::isfinite(C)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("logistic regression: C = {} must be positive", C));
    }
    Eigen::MatrixXd onehot = Eigen::MatrixXd::Zero(n, k);
    for (Eigen::Index i = 0; i < n; ++i) {
        const int c = classes[static_cast<std::size_t>(i)];
        if (c < 0 || c >= k) {
            throw Error(ErrorKind::InvalidInput, fmt::format("logistic regression: sample {} has class {} of {}", i,
                                                             c, n_classes));
        }
        onehot(i, c) = 1.0;
    }
    // x = [vec(W) (d x k, column-major: class j's weights contiguous), b]; f is the
    // objective divided by n, which has the same minimiser and a better-scaled gradient.
    const double scale = 1.0 / static_cast<double>(n);
    const double l2 = 1.0 / C;
    Eigen::MatrixXd logits(n, k);
    const Objective objective = [&](const Eigen::VectorXd & x, Eigen::VectorXd & gradient) {
        const Eigen::Map<const Eigen::MatrixXd> w(x.data(), d, k);
        const auto b = x.tail(k);
        logits.noalias() = features * w;
        logits.rowwise() += b.transpose();
        const double loss = log_softmax_rows(logits, classes);
        logits.array() = logits.array().exp() - onehot.array();  // now P - Y
        Eigen::Map<Eigen::MatrixXd> grad_w(gradient.data(), d, k);
        grad_w.noalias() = features.transpose() * logits;
        grad_w += l2 * w;
        grad_w *= scale;
        gradient.tail(k) = logits.colwise().sum().transpose() * scale;
        return (loss + 0.5 * l2 * w.squaredNorm()) * scale;
    };
    Eigen::VectorXd x = Eigen::VectorXd::Zero(d * k + k);
    if (start != nullptr && start->weights.rows() == k && start->weights.cols() == d) {
        Eigen::Map<Eigen::MatrixXd>(x.data(), d, k) = start->weights.transpose();
        x.tail(k) = start->bias;
    }
    LogRegFit fit;
    fit.solver = minimize_lbfgs(objective, x, options);
    fit.model.weights = Eigen::Map<const Eigen::MatrixXd>(x.data(), d, k).transpose();
    fit.model.bias = x.tail(k);
    return fit;
}

std::vector<double> default_c_grid() {
    return {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1};
}

CrossValidation cross_validate_c(const Eigen::MatrixXd & features, const std::vector<int> & classes,
                                 std::size_t n_classes, std::vector<double> grid, std::size_t folds,
                                 const LbfgsOptions & options) {
    if (grid.empty()) {
        throw Error(ErrorKind::InvalidArgument, "cross-validation: the C grid is empty");
    }
    std::sort(grid.begin(), grid.end());
    const std::vector<int> fold_of = stratified_folds(classes, folds);
    CrossValidation cv;
    cv.grid = grid;
    cv.folds = folds;
    cv.mean_scores.assign(grid.size(), 0.0);
    for (std::size_t fold = 0; fold < folds; ++fold) {
        std::vector<Eigen::Index> train_rows;
        std::vector<Eigen::Index> held_rows;
        for (std::size_t i = 0; i < classes.size(); ++i) {
            (fold_of[i] == static_cast<int>(fold) ? held_rows : train_rows).push_back(static_cast<Eigen::Index>(i));
        }
        const Eigen::MatrixXd train_x = features(train_rows, Eigen::all);
        const Eigen::MatrixXd held_x = features(held_rows, Eigen::all);
        std::vector<int> train_y;
        std::vector<int> held_y;
        for (const auto i : train_rows) {
            train_y.push_back(classes[static_cast<std::size_t>(i)]);
        }
        for (const auto i : held_rows) {
            held_y.push_back(classes[static_cast<std::size_t>(i)]);
        }
        // Along the grid, each fit starts from the previous C's optimum (the optimum is unique).
        LinearModel previous;
        for (std::size_t g = 0; g < grid.size(); ++g) {
            const LogRegFit fit = fit_logreg(train_x, train_y, n_classes, grid[g], options, g == 0 ? nullptr : &previous);
            previous = fit.model;
            const double score = metrics::roc_auc_ovr_macro(held_y, fit.model.probabilities(held_x));
            cv.mean_scores[g] += score / static_cast<double>(folds);
        }
    }
    std::size_t best = 0;
    for (std::size_t g = 1; g < grid.size(); ++g) {
        if (cv.mean_scores[g] > cv.mean_scores[best] + 1e-12) {
            best = g;
        }
    }
    cv.best_c = grid[best];
    return cv;
}

}  // namespace dermlens::probe
