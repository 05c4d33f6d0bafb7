#include "eval/metrics.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

namespace dermlens::eval {
namespace {

void check_sizes(std::size_t truth, std::size_t other, const char * what) {
    if (truth != other) {
        throw Error(ErrorKind::InvalidInput, fmt::format("metrics: {} labels but {} {}", truth, other, what));
    }
    if (truth == 0) {
        throw Error(ErrorKind::InvalidInput, "metrics: no rows to score");
    }
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
    check_sizes(truth.size(), predicted.size(), "predictions");
    std::set<int> classes(truth.begin(), truth.end());
    classes.insert(predicted.begin(), predicted.end());
    double sum = 0.0;
    for (const int c : classes) {
        std::size_t tp = 0;
        std::size_t fp = 0;
        std::size_t fn = 0;
        for (std::size_t i = 0; i < truth.size(); ++i) {
            tp += truth[i] == c && predicted[i] == c ? 1 : 0;
            fp += truth[i] != c && predicted[i] == c ? 1 : 0;
            fn += truth[i] == c && predicted[i] != c ? 1 : 0;
        }
        // F1 = 2 tp / (2 tp + fp + fn), 0 when the class is neither true nor predicted correctly.
        sum += tp == 0 ? 0.0 : 2.0 * static_cast<double>(tp) / static_cast<double>(2 * tp + fp + fn);
    }
    return sum / static_cast<double>(classes.size());
}

double balanced_accuracy(const std::vector<int> & truth, const std::vector<int> & predicted) {
    check_sizes(truth.size(), predicted.size(), "predictions");
    const std::set<int> classes(truth.begin(), truth.end());
    double sum = 0.0;
    for (const int c : classes) {
        std::size_t support = 0;
        std::size_t right = 0;
        for (std::size_t i = 0; i < truth.size(); ++i) {
            support += truth[i] == c ? 1 : 0;
            right += truth[i] == c && predicted[i] == c ? 1 : 0;
        }
        sum += static_cast<double>(right) / static_cast<double>(support);
    }
    return sum / static_cast<double>(classes.size());
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
        return std::numeric_limits<double>::quiet_NaN();
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
    return counted == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(counted);
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
        throw Error(ErrorKind::InvalidInput, "metrics: no sets to measure");
    }
    double total = 0.0;
    for (const auto & set : sets) {
        total += static_cast<double>(set.size());
    }
    return total / static_cast<double>(sets.size());
}

MeanStd mean_std(const std::vector<double> & values) {
    std::vector<double> kept;
    std::copy_if(values.begin(), values.end(), std::back_inserter(kept), [](double v) { return !std::isnan(v); });
    MeanStd result;
    if (kept.empty()) {
        result.mean = result.std = std::numeric_limits<double>::quiet_NaN();
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

}  // namespace dermlens::eval
