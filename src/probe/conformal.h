// Split-conformal candidate sets (docs/probes.md): the scores and the finite-sample quantile.
//
// For a probability row p (classes ranked most likely first, equal probabilities in class
// order), rho(y) the probability of the classes ranked above y, and a uniform draw u per row:
//   LAC  (Sadinle, Lei & Wasserman 2019, "least ambiguous sets"): s(x, y) = 1 - p_y
//   APS  (Romano, Sesia & Candès 2020):                         s(x, y) = rho(y) + u p_y
//   RAPS (Angelopoulos, Bates, Malik & Jordan 2021):           s(x, y) = rho(y) + u p_y + lambda max(0, rank(y) - k_reg)
// (rank 1 = most likely). The "plain" APS / RAPS take u = 1: the whole probability of y, no
// randomisation, as dermlens did before; their sets are valid but can be much larger than
// needed (with a confident probe, q_hat sits near 1 and sets take every class).
// q_hat  = the ceil((n + 1)(1 - alpha))-th smallest of the n calibration scores
// set(x) = { y : s(x, y) <= q_hat } (a prefix of the ranking: every score is non-decreasing along it)
//
// For exchangeable calibration and test rows, P(y in set) >= 1 - alpha for any score, and
// <= 1 - alpha + 1/(n + 1) when the scores have no ties — the randomisation is what breaks the
// ties of APS and RAPS. Class-conditional (Mondrian) calibration (Vovk 2012) takes q_hat per
// class from that class's calibration rows: then the guarantee holds for every class.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dermlens::probe {

enum class ConformalScore { Lac, Aps, Raps };

struct ConformalParams {
    ConformalScore score = ConformalScore::Lac;
    bool randomized = false;  // APS, RAPS: u uniform per row (Romano et al.); false: u = 1 ("plain")
    double lambda = 0.0;      // RAPS penalty per class ranked beyond k_reg
    std::size_t k_reg = 0;    // RAPS: classes ranked up to k_reg are not penalised

    void validate() const;  // throws Error(InvalidArgument)
    bool operator==(const ConformalParams &) const = default;
};

// "lac" | "aps" | "aps-plain" | "raps" | "raps-plain"
std::string conformal_score_name(const ConformalParams & params);
// The score and its randomisation from one of those names (lambda and k_reg 0); throws Error(InvalidArgument).
ConformalParams parse_conformal_score(const std::string & text);
// The field name of a score in probe files: "lac" | "aps" | "raps" (randomisation is a field of its own).
const char * conformal_score_kind(ConformalScore score) noexcept;
ConformalScore parse_conformal_score_kind(const std::string & text);  // throws Error(InvalidArgument)

// The index-th draw, uniform on [0, 1), of the stream `seed`: splitmix64(splitmix64(seed) + index),
// top 53 bits. The same on every platform, and each index independent of the others, so a row's
// draw does not depend on which other rows are scored with it.
double uniform_draw(std::uint64_t seed, std::size_t index);

// The conformity score of class `label` for one probability row; `u` is the row's uniform draw
// (read only by randomised scores).
double conformal_score(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities, std::size_t label,
                       const ConformalParams & params, double u);

// The score of the true class of each row, in row order; row i draws uniform_draw(seed, i).
std::vector<double> true_class_scores(const Eigen::MatrixXd & probabilities, const std::vector<int> & truth,
                                      const ConformalParams & params, std::uint64_t seed);

// The fewest calibration rows whose (1 - alpha) conformal quantile is finite:
// ceil((n + 1)(1 - alpha)) <= n  <=>  n >= (1 - alpha) / alpha  <=>  n >= ceil(1 / alpha) - 1.
std::size_t minimum_calibration_rows(double alpha);

// The finite-sample quantile of ascending `scores` for alpha in (0, 1); throws
// Error(InvalidInput) when there are fewer than minimum_calibration_rows(alpha).
double conformal_quantile(const std::vector<double> & scores, double alpha);

// The classes whose score is within their threshold (`thresholds[c]` for class c: one value for
// every class with marginal calibration, one per class with Mondrian calibration), most likely
// first, clamped to [min_size, max_size] classes (max_size 0: no upper limit): the most likely
// missing classes fill a set up to min_size, the most likely members are kept down to max_size.
std::vector<std::size_t> prediction_set(const Eigen::Ref<const Eigen::RowVectorXd> & probabilities,
                                        const std::vector<double> & thresholds, const ConformalParams & params,
                                        double u, std::size_t min_size, std::size_t max_size);

}  // namespace dermlens::probe
