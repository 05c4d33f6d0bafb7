// Classification metrics on class indices and probability rows, defined as
// scikit-learn defines them (docs/probes.md), plus the coverage and size of
// candidate sets, calibration and bootstrap intervals. Generic: nothing here knows
// about probes or features (used by src/probe/ and the evaluation harness).
// Invalid input (sizes that differ, no rows, out-of-range values) throws
// Error(InvalidArgument) naming the metric and the reason.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace dermlens::metrics {

// The classes of one probability row from most to least likely; equal probabilities keep class order.
std::vector<std::size_t> ranked_classes(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities);

// The most likely class of each row (ranked_classes(row)[0]).
std::vector<int> argmax_rows(const Eigen::MatrixXd & probabilities);

double accuracy(const std::vector<int> & truth, const std::vector<int> & predicted);

// Unweighted mean of per-class F1 over the classes in truth or predicted (sklearn's
// f1_score(average='macro')); an undefined precision, recall or F1 counts as 0.
double macro_f1(const std::vector<int> & truth, const std::vector<int> & predicted);

// Unweighted means of per-class precision and recall over the same classes as macro_f1
// (sklearn's precision_score / recall_score(average='macro', zero_division=0)).
double macro_precision(const std::vector<int> & truth, const std::vector<int> & predicted);
double macro_recall(const std::vector<int> & truth, const std::vector<int> & predicted);

// Counts of (true class, predicted class): rows are the truth, columns the prediction
// (sklearn's confusion_matrix(labels=range(classes))). Throws for an index outside [0, classes).
Eigen::MatrixXi confusion_matrix(const std::vector<int> & truth, const std::vector<int> & predicted,
                                 std::size_t classes);

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

// Candidate sets of some rows: their coverage, mean and median size (numpy's median: the mean
// of the two middle sizes for an even count) and the share of empty and one-class sets.
struct SetStatistics {
    std::size_t rows = 0;
    double coverage = 0.0;
    double mean_size = 0.0;
    double median_size = 0.0;
    double empty_share = 0.0;
    double singleton_share = 0.0;
};
SetStatistics set_statistics(const std::vector<int> & truth, const std::vector<std::vector<std::size_t>> & sets);
// Per true class 0 .. classes - 1: the statistics of that class's rows (rows 0 and NaN values for
// a class without rows).
std::vector<SetStatistics> set_statistics_per_class(const std::vector<int> & truth,
                                                    const std::vector<std::vector<std::size_t>> & sets,
                                                    std::size_t classes);
// Size-stratified coverage (Angelopoulos et al. 2021): per set size that occurs, ascending,
// how many rows have a set of that size and the coverage among them.
struct SizeCoverage {
    std::size_t size = 0;
    std::size_t rows = 0;
    double coverage = 0.0;
};
std::vector<SizeCoverage> coverage_by_set_size(const std::vector<int> & truth,
                                               const std::vector<std::vector<std::size_t>> & sets);

// One equal-width confidence bin of a reliability diagram. Bin b of B covers (b/B, (b+1)/B];
// the first also holds confidence 0, so every value of [0, 1] is in exactly one bin.
struct CalibrationBin {
    double lower = 0.0;
    double upper = 0.0;
    std::size_t count = 0;
    double mean_confidence = 0.0;  // NaN when the bin is empty
    double accuracy = 0.0;         // fraction correct; NaN when the bin is empty
};

// Every bin (empty ones included) of `confidence` (each in [0, 1]) against whether the prediction
// was right. Throws for sizes that differ, no rows, bins == 0, or a confidence outside [0, 1] or NaN.
std::vector<CalibrationBin> reliability_bins(const std::vector<double> & confidence, const std::vector<bool> & correct,
                                             std::size_t bins = 15);

// Sum over bins of count / n * |accuracy - mean confidence| (Guo et al. 2017); empty bins add nothing.
double expected_calibration_error(const std::vector<CalibrationBin> & bins);
double expected_calibration_error(const std::vector<double> & confidence, const std::vector<bool> & correct,
                                  std::size_t bins = 15);

struct Interval {
    double low = 0.0;
    double high = 0.0;
};

// Percentile bootstrap: `statistic` of `resamples` resamples of the indices 0 .. samples-1 drawn
// with replacement (std::mt19937_64 from `seed` with dermlens's own uniform mapping, so the same on
// every standard library), and the (1 - confidence) / 2 and (1 + confidence) / 2 percentiles of
// those values, interpolated linearly (numpy.percentile's default). NaN values (e.g. ROC-AUC of a
// resample with one class) are left out; both ends are NaN when every value is. Throws for
// samples == 0, resamples == 0 or confidence outside (0, 1).
Interval bootstrap_interval(std::size_t samples,
                            const std::function<double(const std::vector<std::size_t> & indices)> & statistic,
                            std::uint64_t seed, std::size_t resamples = 1000, double confidence = 0.95);

struct MeanStd {
    double mean = 0.0;
    double std = 0.0;  // sample standard deviation (n - 1 denominator); 0 for one value
};
MeanStd mean_std(const std::vector<double> & values);  // NaN values are left out

}  // namespace dermlens::metrics
