// Multinomial L2-regularised logistic regression (paper 001, section 3.3.2): the
// minimiser of  sum_i CE(softmax(W x_i + b), y_i) + ||W||^2 / (2C)  (b not penalised),
// scikit-learn's LogisticRegression(multi_class='multinomial', penalty='l2', C=C)
// objective, solved with L-BFGS to a tight tolerance; C chosen by stratified k-fold
// cross-validation on macro one-vs-rest ROC-AUC, then refit on all the data.
#pragma once

#include "probe/lbfgs.h"

#include <Eigen/Core>

#include <cstddef>
#include <vector>

namespace dermlens::probe {

// Softmax of each row of `logits` (shifted by the row's maximum, so no exp overflows).
Eigen::MatrixXd softmax_rows(Eigen::MatrixXd logits);

struct LinearModel {
    Eigen::MatrixXd weights;  // classes x dimension
    Eigen::VectorXd bias;     // classes

    // Softmax class probabilities, one row per row of `features`.
    Eigen::MatrixXd probabilities(const Eigen::MatrixXd & features) const;
};

struct LogRegFit {
    LinearModel model;
    LbfgsResult solver;
};

// Rows of `features` are samples; classes[i] in [0, n_classes). `start` warm-starts the
// solver (same shape), which changes the path to the optimum but not the optimum.
LogRegFit fit_logreg(const Eigen::MatrixXd & features, const std::vector<int> & classes, std::size_t n_classes,
                     double C, const LbfgsOptions & options = {}, const LinearModel * start = nullptr);

// scikit-learn's grid for paper 001: 1e-5, 1e-4, ..., 1e1.
std::vector<double> default_c_grid();

struct CrossValidation {
    std::vector<double> grid;         // the C values tried, ascending
    std::vector<double> mean_scores;  // mean over folds of the fold's macro one-vs-rest ROC-AUC, per C
    std::size_t folds = 0;
    double best_c = 0.0;              // the highest mean score; ties (within 1e-12) go to the smaller C
};

// `folds`-fold cross-validation with stratified_folds(classes, folds). A fold's score is
// roc_auc_ovr_macro on its held-out samples.
CrossValidation cross_validate_c(const Eigen::MatrixXd & features, const std::vector<int> & classes,
                                 std::size_t n_classes, std::vector<double> grid, std::size_t folds,
                                 const LbfgsOptions & options = {});

}  // namespace dermlens::probe
