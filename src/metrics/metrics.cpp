#include "metrics/metrics.h"

#include "common/random.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

namespace dermlens::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

[[noreturn]] void invalid(const std::string & message) {
    throw Error(ErrorKind::InvalidArgument, message);
}

void check_sizes(std::size_t truth, std::size_t other, const char * what) {
    if (truth != other) {
        invalid(fmt::format("metrics: {} labels but {} {}", truth, other, what));
    }
    if (truth == 0) {
        invalid("metrics: no rows to score");
    }
}

struct ClassCounts {
    std::size_t true_positives = 0;
    std::size_t false_positives = 0;
    std::size_t false_negatives = 0;
};

// Counts of every class in truth or predicted: the classes sklearn's macro averages run over.
std::map<int, ClassCounts> per_class_counts(const std::vector<int> & truth, const std::vector<int> & predicted) {
    check_sizes(truth.size(), predicted.size(), "predictions");
    std::map<int, ClassCounts> counts;
    for (std::size_t i = 0; i < truth.size(); ++i) {
        if (truth[i] == predicted[i]) {
            ++counts[truth[i]].true_positives;
        } else {
            ++counts[truth[i]].false_negatives;
            ++counts[predicted[i]].false_positives;
        }
    }
    return counts;
}

// An undefined ratio (0 / 0) counts as 0, as sklearn's zero_division=0.
double ratio_or_zero(std::size_t numerator, std::size_t denominator) {
    return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}

// Unweighted mean of `score` over the classes in truth or predicted.
template <typename Score>
double macro_average(const std::vector<int> & truth, const std::vector<int> & predicted, Score score) {
    const auto counts = per_class_counts(truth, predicted);
    double sum = 0.0;
    for (const auto & [c, count] : counts) {
        sum += score(count);
    }
    return sum / static_cast<double>(counts.size());
}

double precision(const ClassCounts & c) {
    return ratio_or_zero(c.true_positives, c.true_positives + c.false_positives);
}

double recall(const ClassCounts & c) {
    return ratio_or_zero(c.true_positives, c.true_positives + c.false_negatives);
}

// F1 = 2 tp / (2 tp + fp + fn): the harmonic mean of precision and recall without dividing by 0.
double f1(const ClassCounts & c) {
    return ratio_or_zero(2 * c.true_positives, 2 * c.true_positives + c.false_positives + c.false_negatives);
}

std::size_t checked_class(int value, std::size_t classes, const char * which, std::size_t row) {
    if (value < 0 || static_cast<std::size_t>(value) >= classes) {
        invalid(fmt::format("confusion matrix: {} class {} of row {} is outside [0, {})", which, value, row, classes));
    }
    return static_cast<std::size_t>(value);
}

// Bin b of `bins` covers (b/B, (b+1)/B], the first also 0. The guess from the product is checked
// against those very edges, so rounding in confidence * B never puts a value on the wrong side.
std::size_t calibration_bin(double confidence, std::size_t bins) {
    const double n = static_cast<double>(bins);
    std::size_t bin = confidence <= 0.0 ? 0 : static_cast<std::size_t>(std::ceil(confidence * n)) - 1;
    bin = std::min(bin, bins - 1);
    if (bin > 0 && confidence <= static_cast<double>(bin) / n) {
        --bin;
    } else if (bin + 1 < bins && confidence > static_cast<double>(bin + 1) / n) {
        ++bin;
    }
    return bin;
}

// The q-quantile of sorted values, interpolated linearly between the closest ranks (numpy.percentile's default).
double sorted_quantile(const std::vector<double> & sorted, double q) {
    const double position = q * static_cast<double>(sorted.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, sorted.size() - 1);
    return sorted[below] + (position - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

}  // namespace

std::vector<std::size_t> ranked_classes(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities) {
    std::vector<std::size_t> order(static_cast<std::size_t>(probabilities.size()));
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return probabilities(static_cast<Eigen::Index>(a)) > probabilities(static_cast<Eigen::Index>(b));
    });
    return order;
}

std::vector<int> argmax_rows(const Eigen::MatrixXd & probabilities) {
    std::vector<int> best(static_cast<std::size_t>(probabilities.rows()));
    for (Eigen::Index i = 0; i < probabilities.rows(); ++i) {
        Eigen::Index column = 0;
        probabilities.row(i).maxCoeff(&column);  // the first maximum: ties keep class order
        best[static_cast<std::size_t>(i)] = static_cast<int>(column);
    }
    return best;
}

double accuracy(const std::vector<int> & truth, const std::vector<int> & predicted) {
    check_sizes(truth.size(), predicted.size(), "predictions");
    std::size_t right = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) {
        right += truth[i] == predicted[i] ? 1 : 0;
    }
    return static_cast<double>(right) / static_cast<double>(truth.size());
}

double macro_f1(const std::vector<int> & truth, const std::vector<int> & predicted) {
    return macro_average(truth, predicted, f1);
}

double macro_precision(const std::vector<int> & truth, const std::vector<int> & predicted) {
    return macro_average(truth, predicted, precision);
}

double macro_recall(const std::vector<int> & truth, const std::vector<int> & predicted) {
    return macro_average(truth, predicted, recall);
}

double balanced_accuracy(const std::vector<int> & truth, const std::vector<int> & predicted) {
    // Recall over the classes present in truth only (a class that is only predicted has no support).
    double sum = 0.0;
    std::size_t present = 0;
    for (const auto & [c, count] : per_class_counts(truth, predicted)) {
        if (count.true_positives + count.false_negatives > 0) {
            sum += recall(count);
            ++present;
        }
    }
    return sum / static_cast<double>(present);
}

Eigen::MatrixXi confusion_matrix(const std::vector<int> & truth, const std::vector<int> & predicted,
                                 std::size_t classes) {
    check_sizes(truth.size(), predicted.size(), "predictions");
    const auto n = static_cast<Eigen::Index>(classes);
    Eigen::MatrixXi counts = Eigen::MatrixXi::Zero(n, n);
    for (std::size_t i = 0; i < truth.size(); ++i) {
        const std::size_t row = checked_class(truth[i], classes, "true", i);
        const std::size_t column = checked_class(predicted[i], classes, "predicted", i);
        ++counts(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(column));
    }
    return counts;
}

double top_k_accuracy(const std::vector<int> & truth, const Eigen::MatrixXd & probabilities, std::size_t k) {
    check_sizes(truth.size(), static_cast<std::size_t>(probabilities.rows()), "probability rows");
    std::size_t hits = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) {
        const auto ranked = ranked_classes(probabilities.row(static_cast<Eigen::Index>(i)));
        const auto end = ranked.begin() + static_cast<std::ptrdiff_t>(std::min(k, ranked.size()));
        hits += std::find(ranked.begin(), end, static_cast<std::size_t>(truth[i])) != end ? 1 : 0;
    }
    return static_cast<double>(hits) / static_cast<double>(truth.size());
}

double binary_roc_auc(const std::vector<bool> & positive, const Eigen::Ref<const Eigen::VectorXd> & scores) {
    check_sizes(positive.size(), static_cast<std::size_t>(scores.size()), "scores");
    // Mann-Whitney U with mid-ranks for ties, which equals the trapezoidal area under the ROC curve.
    std::vector<std::size_t> order(positive.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return scores(static_cast<Eigen::Index>(a)) < scores(static_cast<Eigen::Index>(b));
    });
    double positive_rank_sum = 0.0;
    std::size_t positives = 0;
    for (std::size_t start = 0; start < order.size();) {
        std::size_t end = start;
        while (end < order.size() &&
               scores(static_cast<Eigen::Index>(order[end])) == scores(static_cast<Eigen::Index>(order[start]))) {
            ++end;
        }
        const double mid_rank = 0.5 * static_cast<double>(start + 1 + end);  // mean of ranks start+1 .. end
        for (std::size_t i = start; i < end; ++i) {
            if (positive[order[i]]) {
                positive_rank_sum += mid_rank;
                ++positives;
            }
        }
        start = end;
    }
    const std::size_t negatives = positive.size() - positives;
    if (positives == 0 || negatives == 0) {
        return kNaN;
    }
    const double p = static_cast<double>(positives);
    return (positive_rank_sum - p * (p + 1.0) / 2.0) / (p * static_cast<double>(negatives));
}

double roc_auc_ovr_macro(const std::vector<int> & truth, const Eigen::MatrixXd & probabilities) {
    check_sizes(truth.size(), static_cast<std::size_t>(probabilities.rows()), "probability rows");
    double sum = 0.0;
    std::size_t counted = 0;
    for (Eigen::Index c = 0; c < probabilities.cols(); ++c) {
        std::vector<bool> positive(truth.size());
        for (std::size_t i = 0; i < truth.size(); ++i) {
            positive[i] = truth[i] == static_cast<int>(c);
        }
        const double auc = binary_roc_auc(positive, probabilities.col(c));
        if (!std::isnan(auc)) {
            sum += auc;
            ++counted;
        }
    }
    return counted == 0 ? kNaN : sum / static_cast<double>(counted);
}

double set_coverage(const std::vector<int> & truth, const std::vector<std::vector<std::size_t>> & sets) {
    check_sizes(truth.size(), sets.size(), "sets");
    std::size_t covered = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) {
        covered += std::find(sets[i].begin(), sets[i].end(), static_cast<std::size_t>(truth[i])) != sets[i].end();
    }
    return static_cast<double>(covered) / static_cast<double>(truth.size());
}

double mean_set_size(const std::vector<std::vector<std::size_t>> & sets) {
    if (sets.empty()) {
        invalid("metrics: no sets to measure");
    }
    double total = 0.0;
    for (const auto & set : sets) {
        total += static_cast<double>(set.size());
    }
    return total / static_cast<double>(sets.size());
}

SetStatistics set_statistics(const std::vector<int> & truth, const std::vector<std::vector<std::size_t>> & sets) {
    check_sizes(truth.size(), sets.size(), "sets");
    SetStatistics out;
    out.rows = sets.size();
    out.coverage = set_coverage(truth, sets);
    out.mean_size = mean_set_size(sets);
    std::vector<std::size_t> sizes;
    for (const auto & set : sets) {
        sizes.push_back(set.size());
    }
    std::sort(sizes.begin(), sizes.end());
    const std::size_t middle = sizes.size() / 2;
    out.median_size = sizes.size() % 2 == 1 ? static_cast<double>(sizes[middle])
                                            : 0.5 * static_cast<double>(sizes[middle - 1] + sizes[middle]);
    const auto share = [&](std::size_t size) {
        return static_cast<double>(std::count(sizes.begin(), sizes.end(), size)) / static_cast<double>(sizes.size());
    };
    out.empty_share = share(0);
    out.singleton_share = share(1);
    return out;
}

std::vector<SetStatistics> set_statistics_per_class(const std::vector<int> & truth,
                                                    const std::vector<std::vector<std::size_t>> & sets,
                                                    std::size_t classes) {
    check_sizes(truth.size(), sets.size(), "sets");
    std::vector<std::vector<int>> class_truth(classes);
    std::vector<std::vector<std::vector<std::size_t>>> class_sets(classes);
    for (std::size_t i = 0; i < truth.size(); ++i) {
        if (truth[i] < 0 || static_cast<std::size_t>(truth[i]) >= classes) {
            invalid(fmt::format("metrics: class {} is not one of {} classes", truth[i], classes));
        }
        class_truth[static_cast<std::size_t>(truth[i])].push_back(truth[i]);
        class_sets[static_cast<std::size_t>(truth[i])].push_back(sets[i]);
    }
    std::vector<SetStatistics> out;
    for (std::size_t c = 0; c < classes; ++c) {
        out.push_back(class_truth[c].empty() ? SetStatistics{0, kNaN, kNaN, kNaN, kNaN, kNaN}
                                             : set_statistics(class_truth[c], class_sets[c]));
    }
    return out;
}

std::vector<SizeCoverage> coverage_by_set_size(const std::vector<int> & truth,
                                               const std::vector<std::vector<std::size_t>> & sets) {
    check_sizes(truth.size(), sets.size(), "sets");
    std::map<std::size_t, std::pair<std::size_t, std::size_t>> by_size;  // size -> (rows, covered)
    for (std::size_t i = 0; i < truth.size(); ++i) {
        auto & [rows, covered] = by_size[sets[i].size()];
        ++rows;
        covered += std::find(sets[i].begin(), sets[i].end(), static_cast<std::size_t>(truth[i])) != sets[i].end();
    }
    std::vector<SizeCoverage> out;
    for (const auto & [size, counts] : by_size) {
        out.push_back({size, counts.first, static_cast<double>(counts.second) / static_cast<double>(counts.first)});
    }
    return out;
}

std::vector<CalibrationBin> reliability_bins(const std::vector<double> & confidence, const std::vector<bool> & correct,
                                             std::size_t bins) {
    check_sizes(correct.size(), confidence.size(), "confidences");
    if (bins == 0) {
        invalid("reliability bins: 0 bins");
    }
    std::vector<CalibrationBin> result(bins);
    std::vector<double> confidence_sums(bins, 0.0);
    std::vector<std::size_t> right(bins, 0);
    for (std::size_t i = 0; i < confidence.size(); ++i) {
        if (!(confidence[i] >= 0.0 && confidence[i] <= 1.0)) {
            invalid(fmt::format("reliability bins: confidence {} of row {} is not within [0, 1]", confidence[i], i));
        }
        const std::size_t bin = calibration_bin(confidence[i], bins);
        ++result[bin].count;
        confidence_sums[bin] += confidence[i];
        right[bin] += correct[i] ? 1 : 0;
    }
    for (std::size_t b = 0; b < bins; ++b) {
        CalibrationBin & bin = result[b];
        bin.lower = static_cast<double>(b) / static_cast<double>(bins);
        bin.upper = static_cast<double>(b + 1) / static_cast<double>(bins);
        const double count = static_cast<double>(bin.count);
        bin.mean_confidence = bin.count == 0 ? kNaN : confidence_sums[b] / count;
        bin.accuracy = bin.count == 0 ? kNaN : static_cast<double>(right[b]) / count;
    }
    return result;
}

double expected_calibration_error(const std::vector<CalibrationBin> & bins) {
    std::size_t total = 0;
    for (const CalibrationBin & bin : bins) {
        total += bin.count;
    }
    if (total == 0) {
        invalid("expected calibration error: no rows in the bins");
    }
    double error = 0.0;
    for (const CalibrationBin & bin : bins) {
        if (bin.count > 0) {
            error += static_cast<double>(bin.count) / static_cast<double>(total) *
                     std::abs(bin.accuracy - bin.mean_confidence);
        }
    }
    return error;
}

double expected_calibration_error(const std::vector<double> & confidence, const std::vector<bool> & correct,
                                  std::size_t bins) {
    return expected_calibration_error(reliability_bins(confidence, correct, bins));
}

Interval bootstrap_interval(std::size_t samples,
                            const std::function<double(const std::vector<std::size_t> & indices)> & statistic,
                            std::uint64_t seed, std::size_t resamples, double confidence) {
    if (samples == 0 || resamples == 0) {
        invalid(fmt::format("bootstrap: {} samples and {} resamples (both must be positive)", samples, resamples));
    }
    if (!(confidence > 0.0 && confidence < 1.0)) {
        invalid(fmt::format("bootstrap: confidence {} is not within (0, 1)", confidence));
    }
    std::mt19937_64 rng(seed);
    std::vector<std::size_t> indices(samples);
    std::vector<double> values;
    values.reserve(resamples);
    for (std::size_t r = 0; r < resamples; ++r) {
        for (std::size_t & index : indices) {
            index = uniform_index(rng, samples);
        }
        const double value = statistic(indices);
        if (!std::isnan(value)) {
            values.push_back(value);
        }
    }
    if (values.empty()) {
        return {kNaN, kNaN};
    }
    std::sort(values.begin(), values.end());
    const double tail = (1.0 - confidence) / 2.0;
    return {sorted_quantile(values, tail), sorted_quantile(values, 1.0 - tail)};
}

MeanStd mean_std(const std::vector<double> & values) {
    std::vector<double> kept;
    std::copy_if(values.begin(), values.end(), std::back_inserter(kept), [](double v) { return !std::isnan(v); });
    MeanStd result;
    if (kept.empty()) {
        result.mean = result.std = kNaN;
        return result;
    }
    result.mean = std::accumulate(kept.begin(), kept.end(), 0.0) / static_cast<double>(kept.size());
    if (kept.size() > 1) {
        double squares = 0.0;
        for (const double v : kept) {
            squares += (v - result.mean) * (v - result.mean);
        }
        result.std = std::sqrt(squares / static_cast<double>(kept.size() - 1));
    }
    return result;
}

}  // namespace dermlens::metrics
