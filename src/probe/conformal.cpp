#include "probe/conformal.h"

#include "dermlens/error.h"
#include "metrics/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dermlens::probe {
namespace {

// Score of each class in ranked order: cumulative probability plus the RAPS penalty.
std::vector<double> ranked_scores(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities,
                                  const std::vector<std::size_t> & ranked, const ConformalParams & params) {
    std::vector<double> scores(ranked.size());
    double cumulative = 0.0;
    for (std::size_t r = 0; r < ranked.size(); ++r) {
        cumulative += probabilities(static_cast<Eigen::Index>(ranked[r]));
        const double rank = static_cast<double>(r + 1);
        const double penalty = params.score == ConformalScore::Raps
                                   ? params.lambda * std::max(0.0, rank - static_cast<double>(params.k_reg))
                                   : 0.0;
        scores[r] = cumulative + penalty;
    }
    return scores;
}

}  // namespace

const char * conformal_score_name(ConformalScore score) noexcept {
    switch (score) {
        case ConformalScore::Aps:  return "aps";
        case ConformalScore::Raps: return "raps";
    }
    return "unknown";
}

ConformalScore parse_conformal_score(const std::string & text) {
    for (const auto score : {ConformalScore::Aps, ConformalScore::Raps}) {
        if (text == conformal_score_name(score)) {
            return score;
        }
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("conformal score '{}' is not aps or raps", text));
}

void ConformalParams::validate() const {
    if (!(lambda >= 0.0) || !std::isfinite(lambda)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("RAPS lambda {} must be >= 0", lambda));
    }
}

double conformal_score(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities, std::size_t label,
                       const ConformalParams & params) {
    const auto ranked = metrics::ranked_classes(probabilities);
    const auto scores = ranked_scores(probabilities, ranked, params);
    const auto at = std::find(ranked.begin(), ranked.end(), label);
    if (at == ranked.end()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("conformal score: class {} of {} does not exist", label, probabilities.size()));
    }
    return scores[static_cast<std::size_t>(at - ranked.begin())];
}

std::vector<double> calibration_scores(const Eigen::MatrixXd & probabilities, const std::vector<int> & truth,
                                       const ConformalParams & params) {
    params.validate();
    if (static_cast<std::size_t>(probabilities.rows()) != truth.size()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("conformal calibration: {} probability rows for {} labels",
                                                         probabilities.rows(), truth.size()));
    }
    std::vector<double> scores(truth.size());
    for (std::size_t i = 0; i < truth.size(); ++i) {
        scores[i] = conformal_score(probabilities.row(static_cast<Eigen::Index>(i)),
                                    static_cast<std::size_t>(truth[i]), params);
    }
    std::sort(scores.begin(), scores.end());
    return scores;
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
                                scores.size(), alpha, static_cast<std::size_t>(std::ceil((1.0 - alpha) / alpha - 1e-9))));
    }
    return scores[std::max<std::size_t>(k, 1) - 1];
}

std::vector<std::size_t> prediction_set(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities, double q_hat,
                                        const ConformalParams & params, std::size_t min_size, std::size_t max_size) {
    const auto ranked = metrics::ranked_classes(probabilities);
    const auto scores = ranked_scores(probabilities, ranked, params);
    // Scores never decrease along the ranking, so the set is the prefix of scores <= q_hat.
    std::size_t size = static_cast<std::size_t>(std::upper_bound(scores.begin(), scores.end(), q_hat) - scores.begin());
    size = std::max(size, std::min(min_size, ranked.size()));
    if (max_size > 0) {
        size = std::min(size, max_size);
    }
    return {ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(size)};
}

}  // namespace dermlens::probe
