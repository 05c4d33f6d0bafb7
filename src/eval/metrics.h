// Classification metrics on class indices and probability rows, defined as
// scikit-learn defines them (docs/probes.md), plus the coverage and size of
// candidate sets. Generic: nothing here knows about probes or features (used by src/probe/).
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <vector>

namespace dermlens::eval {

// The classes of one probability row from most to least likely; equal probabilities keep class order.
std::vector<std::size_t> ranked_classes(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities);

// The most likely class of each row (ranked_classes(row)[0]).
std::vector<int> argmax_rows(const Eigen::MatrixXd & probabilities);

double accuracy(const std::vector<int> & truth, const std::vector<int> & predicted);

// Unweighted mean of per-class F1 over the classes in truth or predicted (sklearn's
// f1_score(average='macro')); an undefined precision, recall or F1 counts as 0.
double macro_f1(const std::vector<int> & truth, const std::vector<int> & predicted);

// Mean recall over the classes present in truth (sklearn's balanced_accuracy_score).
double balanced_accuracy(const std::vector<int> & truth, const std::vector<int> & predicted);

// Fraction of rows whose true class is among the k most likely (ties: ranked_classes).
double top_k_accuracy(const std::vector<int> & truth, const Eigen::MatrixXd & probabilities, std::size_t k);

// Area under the ROC curve of `scores` for the positives, tied scores counting one half
// (the trapezoidal rule of sklearn's roc_auc_score); NaN without both classes.
double binary_roc_auc(const std::vector<bool> & positive, const Eigen::Ref<const Eigen::VectorXd> & scores);

// Unweighted mean over classes of binary_roc_auc(truth == c, probabilities column c), as
// sklearn's roc_auc_score(multi_class='ovr', average='macro'). Classes absent from truth
// (sklearn refuses such input) are left out; NaN when no class has both positives and negatives.
double roc_auc_ovr_macro(const std::vector<int> & truth, const Eigen::MatrixXd & probabilities);

// Fraction of rows whose true class is in its set, and the mean set size.
double set_coverage(const std::vector<int> & truth, const std::vector<std::vector<std::size_t>> & sets);
double mean_set_size(const std::vector<std::vector<std::size_t>> & sets);

struct MeanStd {
    double mean = 0.0;
    double std = 0.0;  // sample standard deviation (n - 1 denominator); 0 for one value
};
MeanStd mean_std(const std::vector<double> & values);  // NaN values are left out

}  // namespace dermlens::eval
