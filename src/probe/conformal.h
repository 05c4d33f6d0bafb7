// Split-conformal candidate sets (docs/probes.md): APS (Romano, Sesia & Candès 2020)
// and RAPS (Angelopoulos, Bates, Malik & Jordan 2021) scores, non-randomised.
//
// score(x, y) = sum of the probabilities of the classes ranked at or above y
//               + lambda * max(0, rank(y) - k_reg)            (rank 1 = most likely; APS: lambda = 0)
// q_hat       = the ceil((n + 1)(1 - alpha))-th smallest of the n calibration scores
// set(x)      = { y : score(x, y) <= q_hat }, a prefix of the ranking, then clamped to [min, max] classes.
//
// For exchangeable calibration and test rows, P(y in set) >= 1 - alpha (any score
// function), and <= 1 - alpha + 1/(n + 1) when the scores have no ties. The lower
// clamp only adds classes; a max below the number of classes can break the guarantee.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <string>
#include <vector>

namespace dermlens::probe {

enum class ConformalScore { Aps, Raps };
const char * conformal_score_name(ConformalScore score) noexcept;  // "aps" | "raps"
ConformalScore parse_conformal_score(const std::string & text);    // throws Error(InvalidArgument)

struct ConformalParams {
    ConformalScore score = ConformalScore::Aps;
    double lambda = 0.0;     // RAPS penalty per class beyond k_reg (ignored by APS)
    std::size_t k_reg = 0;   // RAPS: classes ranked up to k_reg are not penalised

    void validate() const;  // throws Error(InvalidArgument)
    bool operator==(const ConformalParams &) const = default;
};

// The conformity score of class `label` for one probability row.
double conformal_score(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities, std::size_t label,
                       const ConformalParams & params);

// The scores of the true classes of calibration rows, ascending.
std::vector<double> calibration_scores(const Eigen::MatrixXd & probabilities, const std::vector<int> & truth,
                                       const ConformalParams & params);

// The finite-sample quantile of ascending `scores` for alpha in (0, 1); throws
// Error(InvalidInput) when ceil((n + 1)(1 - alpha)) > n (too few calibration rows for alpha).
double conformal_quantile(const std::vector<double> & scores, double alpha);

// The classes with score <= q_hat, most likely first, clamped to [min_size, max_size]
// classes (max_size 0: no upper limit).
std::vector<std::size_t> prediction_set(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities, double q_hat,
                                        const ConformalParams & params, std::size_t min_size, std::size_t max_size);

}  // namespace dermlens::probe
