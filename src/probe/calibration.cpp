#include "probe/calibration.h"

#include "common/random.h"
#include "dermlens/error.h"
#include "metrics/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace dermlens::probe {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

std::vector<std::size_t> order_of(std::size_t rows) {
    std::vector<std::size_t> order(rows);
    std::iota(order.begin(), order.end(), std::size_t{0});
    return order;
}

Eigen::MatrixXd rows_of(const Eigen::MatrixXd & m, const std::vector<std::size_t> & rows) {
    const std::vector<Eigen::Index> index(rows.begin(), rows.end());
    return m(index, Eigen::all);
}

std::vector<int> rows_of(const std::vector<int> & v, const std::vector<std::size_t> & rows) {
    std::vector<int> out;
    for (const std::size_t r : rows) {
        out.push_back(v[r]);
    }
    return out;
}

std::vector<double> sorted(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values;
}

// k_reg: the (1 - alpha) quantile (numpy's "higher") of the true class's rank (1 = most likely).
std::size_t choose_k_reg(const Eigen::MatrixXd & probabilities, const std::vector<int> & labels, double alpha) {
    std::vector<std::size_t> ranks;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto ranked = metrics::ranked_classes(probabilities.row(static_cast<Eigen::Index>(i)));
        ranks.push_back(static_cast<std::size_t>(
                            std::find(ranked.begin(), ranked.end(), static_cast<std::size_t>(labels[i])) -
                            ranked.begin()) +
                        1);
    }
    std::sort(ranks.begin(), ranks.end());
    const double position = (1.0 - alpha) * static_cast<double>(ranks.size() - 1);
    return ranks[static_cast<std::size_t>(std::ceil(position - 1e-9))];
}

// Mean size of the sets of the rows calibrated on themselves (empty sets allowed), per the RAPS code.
double self_calibrated_mean_size(const Eigen::MatrixXd & probabilities, const std::vector<int> & labels,
                                 const ConformalParams & params, double alpha, std::uint64_t seed) {
    const double q_hat = conformal_quantile(sorted(true_class_scores(probabilities, labels, params, seed)), alpha);
    const std::vector<double> thresholds(static_cast<std::size_t>(probabilities.cols()), q_hat);
    double total = 0.0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        total += static_cast<double>(prediction_set(probabilities.row(static_cast<Eigen::Index>(i)), thresholds,
                                                    params, uniform_draw(seed, i), 0, 0)
                                         .size());
    }
    return total / static_cast<double>(labels.size());
}

}  // namespace

void ConformalOptions::validate() const {
    params.validate();
    if (lambda && (!(*lambda >= 0.0) || !std::isfinite(*lambda))) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("RAPS lambda {} must be >= 0", *lambda));
    }
    if ((lambda || k_reg) && params.score != ConformalScore::Raps) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("lambda and k_reg belong to the raps score, not {}", conformal_score_name(params)));
    }
}

std::vector<double> raps_lambda_grid() {
    return {0.001, 0.01, 0.1, 0.2, 0.5};
}

std::vector<std::size_t> raps_tuning_rows(std::size_t rows, std::uint64_t seed) {
    std::vector<std::size_t> order = order_of(rows);
    std::mt19937_64 rng(seed);
    shuffle(order, rng);
    order.resize(static_cast<std::size_t>(std::round(kRapsTuningShare * static_cast<double>(rows))));
    std::sort(order.begin(), order.end());
    return order;
}

double Calibration::q_hat(double level) const {
    return conformal_quantile(scores, level);
}

std::vector<std::size_t> Calibration::rows_per_class(std::size_t classes) const {
    std::vector<std::size_t> counts(classes, 0);
    for (const int label : labels) {
        ++counts.at(static_cast<std::size_t>(label));
    }
    return counts;
}

std::vector<std::size_t> Calibration::undercalibrated_classes(double level, std::size_t classes) const {
    std::vector<std::size_t> out;
    if (!per_class) {
        return out;
    }
    const std::vector<std::size_t> counts = rows_per_class(classes);
    for (std::size_t c = 0; c < classes; ++c) {
        if (counts[c] < minimum_calibration_rows(level)) {
            out.push_back(c);
        }
    }
    return out;
}

std::vector<double> Calibration::thresholds(double level, std::size_t classes) const {
    if (!per_class) {
        return std::vector<double>(classes, q_hat(level));
    }
    const std::vector<double> row_scores = true_class_scores(probabilities, labels, params, seed);
    std::vector<std::vector<double>> by_class(classes);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        by_class.at(static_cast<std::size_t>(labels[i])).push_back(row_scores[i]);
    }
    std::vector<double> out(classes, kInfinity);
    for (std::size_t c = 0; c < classes; ++c) {
        if (by_class[c].size() >= minimum_calibration_rows(level)) {
            out[c] = conformal_quantile(sorted(std::move(by_class[c])), level);
        }
    }
    return out;
}

void Calibration::validate(std::size_t classes) const {
    params.validate();
    if (scores.empty() || !std::is_sorted(scores.begin(), scores.end())) {
        throw Error(ErrorKind::InvalidInput, "probe: the calibration scores must be non-empty and ascending");
    }
    if (has_rows() && (static_cast<std::size_t>(probabilities.rows()) != labels.size() ||
                       static_cast<std::size_t>(probabilities.cols()) != classes || labels.size() != scores.size())) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("probe: the calibration keeps {}x{} probabilities and {} labels for {} scores of {} "
                                "classes",
                                probabilities.rows(), probabilities.cols(), labels.size(), scores.size(), classes));
    }
    if (std::any_of(labels.begin(), labels.end(),
                    [&](int label) { return label < 0 || static_cast<std::size_t>(label) >= classes; })) {
        throw Error(ErrorKind::InvalidInput, "probe: a calibration label is not one of the classes");
    }
    if (per_class && !has_rows()) {
        throw Error(ErrorKind::InvalidInput, "probe: class-conditional calibration needs the calibration rows");
    }
}

Calibration calibrate(const Eigen::MatrixXd & probabilities, const std::vector<int> & labels,
                      const ConformalOptions & options, double alpha, std::uint64_t seed) {
    options.validate();
    if (!(alpha > 0.0 && alpha < 1.0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("alpha {} must be in (0, 1)", alpha));
    }
    if (static_cast<std::size_t>(probabilities.rows()) != labels.size()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("conformal calibration: {} probability rows for {} labels",
                                                         probabilities.rows(), labels.size()));
    }
    Calibration out;
    out.params = options.params;
    out.per_class = options.per_class;
    out.alpha = alpha;
    out.seed = seed;
    out.probabilities = probabilities;
    out.labels = labels;
    const bool raps = options.params.score == ConformalScore::Raps;
    out.params.lambda = raps ? options.lambda.value_or(0.0) : 0.0;
    out.params.k_reg = raps ? options.k_reg.value_or(0) : 0;
    if (raps && (!options.lambda || !options.k_reg)) {
        const auto tune_rows = raps_tuning_rows(labels.size(), seed);
        const std::size_t held = tune_rows.size();
        const std::size_t needed = minimum_calibration_rows(alpha);
        if (held < needed || labels.size() - held < needed) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("{} calibration rows are too few to choose RAPS's lambda and k_reg on {} % of "
                                    "them and calibrate on the rest at alpha {} (each part needs {}): give both",
                                    labels.size(), std::lround(100 * kRapsTuningShare), alpha, needed));
        }
        const std::vector<std::size_t> all = order_of(labels.size());
        std::vector<std::size_t> rest;
        std::set_difference(all.begin(), all.end(), tune_rows.begin(), tune_rows.end(), std::back_inserter(rest));
        const Eigen::MatrixXd tune_p = rows_of(probabilities, tune_rows);
        const std::vector<int> tune_y = rows_of(labels, tune_rows);
        const std::uint64_t tune_seed = raps_tuning_stream(seed);
        RapsTuning tuning;
        tuning.rows = held;
        if (!options.k_reg) {
            out.params.k_reg = choose_k_reg(tune_p, tune_y, alpha);
            tuning.k_reg_chosen = true;
        }
        if (!options.lambda) {
            tuning.lambda_chosen = true;
            tuning.lambda_grid = raps_lambda_grid();
            double best = kInfinity;
            for (const double lambda : tuning.lambda_grid) {
                ConformalParams candidate = out.params;
                candidate.lambda = lambda;
                tuning.mean_sizes.push_back(self_calibrated_mean_size(tune_p, tune_y, candidate, alpha, tune_seed));
                if (tuning.mean_sizes.back() < best) {  // the first of equal sizes: the smaller lambda
                    best = tuning.mean_sizes.back();
                    out.params.lambda = lambda;
                }
            }
        }
        out.tuning = std::move(tuning);
        out.probabilities = rows_of(probabilities, rest);
        out.labels = rows_of(labels, rest);
    }
    out.scores = sorted(true_class_scores(out.probabilities, out.labels, out.params, seed));
    out.q_hat(alpha);  // throws when too few rows
    return out;
}

Calibration recalibrate(const Calibration & calibration, const ConformalOptions & options) {
    if (!calibration.has_rows()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("the probe's calibration ({}) keeps no calibration rows (the probe file is older than "
                                "that): it cannot be recalibrated for {}{}; train the probe again",
                                conformal_score_name(calibration.params), conformal_score_name(options.params),
                                options.per_class ? ", class-conditional" : ""));
    }
    return calibrate(calibration.probabilities, calibration.labels, options, calibration.alpha, calibration.seed);
}

std::map<std::string, double> group_quantiles(const std::vector<double> & scores,
                                              const std::vector<std::string> & groups, double alpha,
                                              std::vector<std::string> * too_few) {
    if (scores.size() != groups.size()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("group-conditional calibration: {} scores for {} groups", scores.size(), groups.size()));
    }
    std::map<std::string, std::vector<double>> by_group;
    for (std::size_t i = 0; i < scores.size(); ++i) {
        by_group[groups[i]].push_back(scores[i]);
    }
    std::map<std::string, double> out;
    for (auto & [group, values] : by_group) {
        if (values.size() >= minimum_calibration_rows(alpha)) {
            out[group] = conformal_quantile(sorted(std::move(values)), alpha);
        } else {
            out[group] = kInfinity;
            if (too_few) {
                too_few->push_back(group);
            }
        }
    }
    return out;
}

std::map<std::string, double> group_thresholds(const Calibration & calibration, const Eigen::MatrixXd & probabilities,
                                               const std::vector<int> & labels, const std::vector<std::string> & groups,
                                               double alpha, std::vector<std::string> * too_few) {
    if (static_cast<std::size_t>(probabilities.rows()) != labels.size() || labels.size() != groups.size()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("group-conditional calibration: {} probability rows, {} labels and {} groups",
                                probabilities.rows(), labels.size(), groups.size()));
    }
    const std::vector<std::size_t> held =
        calibration.tuning ? raps_tuning_rows(labels.size(), calibration.seed) : std::vector<std::size_t>{};
    std::vector<std::size_t> kept;
    for (std::size_t r = 0; r < labels.size(); ++r) {
        if (!groups[r].empty() && !std::binary_search(held.begin(), held.end(), r)) {
            kept.push_back(r);
        }
    }
    std::vector<std::string> kept_groups;
    for (const std::size_t r : kept) {
        kept_groups.push_back(groups[r]);
    }
    const std::vector<double> scores =
        true_class_scores(rows_of(probabilities, kept), rows_of(labels, kept), calibration.params, calibration.seed);
    return group_quantiles(scores, kept_groups, alpha, too_few);
}

}  // namespace dermlens::probe
