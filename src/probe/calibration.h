// Conformal calibration of a probe (docs/probes.md): the calibration rows' probabilities and
// classes with the score they are calibrated for, marginal or class-conditional (Mondrian,
// Vovk 2012), and group-conditional quantiles for groups known at test time (e.g. Fitzpatrick
// type). RAPS's lambda and k_reg, when not given, are chosen on a seeded 30 % of the
// calibration rows held apart from the quantile, as Angelopoulos et al. 2021 do (appendix E
// of the paper and its code: k_reg the (1 - alpha) quantile of the true class's rank, lambda
// of {0.001, 0.01, 0.1, 0.2, 0.5} the one with the smallest mean set size on those rows).
#pragma once

#include "probe/conformal.h"

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::probe {

// How to calibrate: the score, and for RAPS lambda and k_reg when given.
struct ConformalOptions {
    ConformalParams params;              // score and randomisation
    std::optional<double> lambda;        // RAPS: chosen on held-apart rows when not given
    std::optional<std::size_t> k_reg;    // RAPS: likewise
    bool per_class = false;              // Mondrian: a quantile per class

    void validate() const;  // throws Error(InvalidArgument)
};

// The share of the calibration rows RAPS holds apart to choose lambda and k_reg.
inline constexpr double kRapsTuningShare = 0.3;
std::vector<double> raps_lambda_grid();  // 0.001, 0.01, 0.1, 0.2, 0.5
// The rows of `rows` calibration rows held apart for RAPS, ascending: the first
// round(kRapsTuningShare * rows) of a seeded shuffle. Held-apart row j (of those) draws
// uniform_draw(raps_tuning_stream(seed), j): a stream apart from the calibration rows'.
std::vector<std::size_t> raps_tuning_rows(std::size_t rows, std::uint64_t seed);
inline std::uint64_t raps_tuning_stream(std::uint64_t seed) { return ~seed; }

// What choosing RAPS's parameters did.
struct RapsTuning {
    std::size_t rows = 0;          // held apart (not among the calibration rows of the quantile)
    bool lambda_chosen = false;
    bool k_reg_chosen = false;
    std::vector<double> lambda_grid;  // when lambda_chosen
    std::vector<double> mean_sizes;   // per lambda of the grid, on the held-apart rows
};

struct Calibration {
    ConformalParams params;      // lambda and k_reg resolved
    bool per_class = false;      // the probe's sets are class-conditional by default
    double alpha = 0.1;          // the default miscoverage of the candidate sets
    std::uint64_t seed = 0;      // randomised scores: calibration row i draws uniform_draw(seed, i)
    std::vector<double> scores;  // the calibration rows' true-class scores, ascending
    // The calibration rows behind the scores, so that another score or class-conditional sets can
    // be calibrated when the probe is used. Probe files written before these were kept have none.
    Eigen::MatrixXd probabilities;
    std::vector<int> labels;
    std::optional<RapsTuning> tuning;

    bool has_rows() const { return !labels.empty(); }
    double q_hat(double level) const;  // conformal_quantile(scores, level)
    // The threshold of each of `classes` classes: q_hat for all, or per class with per_class
    // (+infinity for a class with fewer than minimum_calibration_rows(level) rows: always in the set).
    std::vector<double> thresholds(double level, std::size_t classes) const;
    // The calibration rows per class (needs has_rows()).
    std::vector<std::size_t> rows_per_class(std::size_t classes) const;
    // The classes with too few calibration rows for per-class quantiles at `level`.
    std::vector<std::size_t> undercalibrated_classes(double level, std::size_t classes) const;
    void validate(std::size_t classes) const;  // throws Error(InvalidInput)
};

// Calibrates on the rows' probabilities and true classes (rows in a seeded order: `seed` also
// picks RAPS's held-apart rows). Throws Error(InvalidInput) when there are too few rows for alpha
// (marginal calibration; a class-conditional one warns through undercalibrated_classes instead).
Calibration calibrate(const Eigen::MatrixXd & probabilities, const std::vector<int> & labels,
                      const ConformalOptions & options, double alpha, std::uint64_t seed);

// The same calibration rows calibrated with other options; throws Error(InvalidArgument) when the
// calibration keeps no rows (a probe file from before they were kept): it cannot change score.
Calibration recalibrate(const Calibration & calibration, const ConformalOptions & options);

// Group-conditional quantiles (groups known at test time, e.g. skin type): per group, the
// (1 - alpha) conformal quantile of that group's scores (`scores` and `groups` per calibration
// row); a group with too few rows gets +infinity (every class in its sets) and is named in `too_few`.
std::map<std::string, double> group_quantiles(const std::vector<double> & scores,
                                              const std::vector<std::string> & groups, double alpha,
                                              std::vector<std::string> * too_few);

// group_quantiles of the calibration split's rows (their probabilities, true classes and groups;
// group "" = unknown: left out), scored as `calibration` scores them. The rows must be those the
// calibration was made from, in the same order: RAPS's held-apart rows (raps_tuning_rows) chose its
// parameters and are left out.
std::map<std::string, double> group_thresholds(const Calibration & calibration, const Eigen::MatrixXd & probabilities,
                                               const std::vector<int> & labels, const std::vector<std::string> & groups,
                                               double alpha, std::vector<std::string> * too_few);

}  // namespace dermlens::probe
