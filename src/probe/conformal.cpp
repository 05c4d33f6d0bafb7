#include "probe/conformal.h"

#include "dermlens/error.h"
#include "metrics/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dermlens::probe {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// The score of each class in ranked order; never decreasing along the ranking.
std::vector<double> ranked_scores(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities,
                                  const std::vector<std::size_t> & ranked, const ConformalParams & params, double u) {
    std::vector<double> scores(ranked.size());
    const double share = params.randomized ? u : 1.0;
    double above = 0.0;  // rho: the probability of the classes ranked above
    for (std::size_t r = 0; r < ranked.size(); ++r) {
        const double p = probabilities(static_cast<Eigen::Index>(ranked[r]));
        if (params.score == ConformalScore::Lac) {
            scores[r] = 1.0 - p;
        } else {
            const double rank = static_cast<double>(r + 1);
            const double penalty = params.score == ConformalScore::Raps
                                       ? params.lambda * std::max(0.0, rank - static_cast<double>(params.k_reg))
                                       : 0.0;
            scores[r] = above + share * p + penalty;
        }
        above += p;
    }
    return scores;
}

}  // namespace

std::string conformal_score_name(const ConformalParams & params) {
    const std::string kind = conformal_score_kind(params.score);
    return params.score == ConformalScore::Lac || params.randomized ? kind : kind + "-plain";
}

ConformalParams parse_conformal_score(const std::string & text) {
    for (const auto score : {ConformalScore::Lac, ConformalScore::Aps, ConformalScore::Raps}) {
        for (const bool randomized : {true, false}) {
            ConformalParams params;
            params.score = score;
            params.randomized = randomized && score != ConformalScore::Lac;
            if (text == conformal_score_name(params)) {
                return params;
            }
        }
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("conformal score '{}' is not lac, aps, raps, aps-plain or raps-plain", text));
}

const char * conformal_score_kind(ConformalScore score) noexcept {
    switch (score) {
        case ConformalScore::Lac:  return "lac";
        case ConformalScore::Aps:  return "aps";
        case ConformalScore::Raps: return "raps";
    }
    return "unknown";
}

ConformalScore parse_conformal_score_kind(const std::string & text) {
    for (const auto score : {ConformalScore::Lac, ConformalScore::Aps, ConformalScore::Raps}) {
        if (text == conformal_score_kind(score)) {
            return score;
        }
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("conformal score '{}' is not lac, aps or raps", text));
}

void ConformalParams::validate() const {
    if (!(lambda >= 0.0) || !std::isfinite(lambda)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("RAPS lambda {} must be >= 0", lambda));
    }
    if (score == ConformalScore::Lac && randomized) {
        throw Error(ErrorKind::InvalidArgument, "the LAC score has no randomised form");
    }
}

double uniform_draw(std::uint64_t seed, std::size_t index) {
    return static_cast<double>(splitmix64(splitmix64(seed) + index) >> 11) * 0x1.0p-53;
}

double conformal_score(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities, std::size_t label,
                       const ConformalParams & params, double u) {
    const auto ranked = metrics::ranked_classes(probabilities);
    const auto at = std::find(ranked.begin(), ranked.end(), label);
    if (at == ranked.end()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("conformal score: class {} of {} does not exist", label, probabilities.size()));
    }
    return ranked_scores(probabilities, ranked, params, u)[static_cast<std::size_t>(at - ranked.begin())];
}

std::vector<double> true_class_scores(const Eigen::MatrixXd & probabilities, const std::vector<int> & truth,
                                      const ConformalParams & params, std::uint64_t seed) {
    params.validate();
    if (static_cast<std::size_t>(probabilities.rows()) != truth.size()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("conformal calibration: {} probability rows for {} labels",
                                                         probabilities.rows(), truth.size()));
    }
    std::vector<double> scores(truth.size());
    for (std::size_t i = 0; i < truth.size(); ++i) {
        scores[i] = conformal_score(probabilities.row(static_cast<Eigen::Index>(i)),
                                    static_cast<std::size_t>(truth[i]), params, uniform_draw(seed, i));
    }
    return scores;
}

std::size_t minimum_calibration_rows(double alpha) {
    // The 1e-9 keeps 1 / alpha that is an integer up to rounding (1 / 0.1) from rounding up.
    return static_cast<std::size_t>(std::ceil(1.0 / alpha - 1e-9)) - 1;
}

double conformal_quantile(const std::vector<double> & scores, double alpha) {
    if (!(alpha > 0.0 && alpha < 1.0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("alpha {} must be in (0, 1)", alpha));
    }
    const double n = static_cast<double>(scores.size());
    // The 1e-9 keeps (n + 1)(1 - alpha) that is an integer up to rounding (e.g. 100 * 0.9) from rounding up.
    const auto k = static_cast<std::size_t>(std::ceil((n + 1.0) * (1.0 - alpha) - 1e-9));
    if (k > scores.size()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("{} calibration rows are too few for alpha {}: the conformal quantile needs at least {}",
                                scores.size(), alpha, minimum_calibration_rows(alpha)));
    }
    return scores[std::max<std::size_t>(k, 1) - 1];
}

std::vector<std::size_t> prediction_set(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities,
                                        const std::vector<double> & thresholds, const ConformalParams & params,
                                        double u, std::size_t min_size, std::size_t max_size) {
    if (thresholds.size() != static_cast<std::size_t>(probabilities.size())) {
        throw Error(ErrorKind::InvalidInput, fmt::format("conformal set: {} thresholds for {} classes",
                                                         thresholds.size(), probabilities.size()));
    }
    const auto ranked = metrics::ranked_classes(probabilities);
    const auto scores = ranked_scores(probabilities, ranked, params, u);
    std::vector<bool> member(ranked.size());
    std::size_t size = 0;
    for (std::size_t r = 0; r < ranked.size(); ++r) {
        member[r] = scores[r] <= thresholds[ranked[r]];
        size += member[r] ? 1 : 0;
    }
    for (std::size_t r = 0; r < ranked.size() && size < min_size; ++r) {
        size += member[r] ? 0 : 1;
        member[r] = true;
    }
    std::vector<std::size_t> set;
    for (std::size_t r = 0; r < ranked.size(); ++r) {
        if (member[r] && (max_size == 0 || set.size() < max_size)) {
            set.push_back(ranked[r]);
        }
    }
    return set;
}

}  // namespace dermlens::probe
