// Evaluating a probe: the rows it is evaluated on and the evaluation report — its
// classification metrics and how its conformal sets cover and how large they are,
// overall, per class and per set size (docs/probes.md).
#pragma once

#include "metrics/metrics.h"
#include "probe/candidates.h"
#include "probe/probe.h"

#include <Eigen/Core>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::probe {

// The rows of `table` to evaluate on: every row for split "all"; else the rows of that
// split — from the table's split column, or, when the table has none and the probe made
// its own split, the same split recomputed (dataset::make_splits with the probe's seed and
// proportions, so the same table gives the same rows). Throws Error(InvalidArgument).
std::vector<std::size_t> evaluation_rows(const Probe & probe, const vision::FeatureTable & table,
                                         std::string_view split);

struct ConformalEvaluation {
    ConformalParams params;
    bool per_class = false;      // class-conditional calibration
    double alpha = 0.0;
    double q_hat = 0.0;          // the marginal quantile (per class: see thresholds)
    std::vector<double> thresholds;  // per class (+infinity: a class with too few calibration rows)
    std::string guarantee;       // set_guarantee
    std::size_t min_size = 0;
    std::size_t max_size = 0;
    double coverage = 0.0;       // fraction of rows whose class is in its set
    double mean_set_size = 0.0;
    metrics::SetStatistics overall;  // coverage and mean again, median size, empty and singleton shares
    std::vector<metrics::SetStatistics> per_class_sets;  // by true class, in the probe's class order
    std::vector<metrics::SizeCoverage> by_size;          // size-stratified coverage
};

struct Evaluation {
    std::size_t rows = 0;
    std::size_t top_k = 0;
    double accuracy = 0.0;
    double macro_f1 = 0.0;
    double balanced_accuracy = 0.0;
    double top_k_accuracy = 0.0;
    double roc_auc = 0.0;  // macro one-vs-rest; NaN when no class has positives and negatives
    std::optional<ConformalEvaluation> conformal;  // when the probe is calibrated
};

// Group-conditional sets of one group (e.g. a Fitzpatrick type) against the marginal ones.
struct GroupSetEvaluation {
    std::string group;
    std::size_t calibration_rows = 0;  // of the calib split in this group
    double threshold = 0.0;            // its q_hat; +infinity: too few calibration rows (every class in its sets)
    metrics::SetStatistics marginal;      // the evaluated rows of the group, with the probe's sets
    metrics::SetStatistics conditional;   // the same rows, with q_hat from the group's calibration rows
};

// Per group of `groups` (one per table row; "" = unknown, left out), q_hat from the
// `calibration_rows` of that group — the calib split of the table the probe was calibrated on,
// in that order (evaluation_rows(probe, table, "calib")) — and the sets of the evaluated `rows`
// of the group, marginal and group-conditional; groups in name order. Needs a calibrated probe
// and labelled rows; throws Error naming `table_name`.
std::vector<GroupSetEvaluation> evaluate_groups(const Probe & probe, const vision::FeatureTable & table,
                                                const std::vector<std::size_t> & rows,
                                                const std::vector<std::size_t> & calibration_rows,
                                                const std::vector<std::string> & groups, const SetParams & set,
                                                std::string_view table_name);

// Scores the probe on the given rows of a compatible table; every row needs a label.
Evaluation evaluate(const Probe & probe, const vision::FeatureTable & table, const std::vector<std::size_t> & rows,
                    std::size_t top_k, const SetParams & set, std::string_view table_name);

}  // namespace dermlens::probe
