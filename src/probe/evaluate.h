// Using a probe: candidate lists (top-k or a conformal set) per image, the rows a
// probe is evaluated on, and the evaluation report (docs/probes.md).
#pragma once

#include "probe/probe.h"

#include <Eigen/Core>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::probe {

// The size limits and level of conformal sets.
struct SetParams {
    std::optional<double> alpha;   // default: the probe's calibrated alpha
    std::size_t min_size = 1;      // an empty set is no candidate list
    std::size_t max_size = 0;      // 0: no limit

    void validate() const;  // throws Error(InvalidArgument)
};

enum class CandidateMode { TopK, Conformal };
const char * candidate_mode_name(CandidateMode mode) noexcept;  // "topk" | "conformal"
CandidateMode parse_candidate_mode(const std::string & text);   // throws Error(InvalidArgument)

struct CandidateParams {
    CandidateMode mode = CandidateMode::TopK;
    std::size_t top_k = 5;  // TopK: the k most likely classes (all when there are fewer)
    SetParams set;          // Conformal

    void validate() const;  // throws Error(InvalidArgument)
};

// The candidate classes of each probability row, most likely first. Conformal mode
// needs a calibrated probe (throws Error(InvalidArgument) naming the probe otherwise).
std::vector<std::vector<std::size_t>> candidate_sets(const Probe & probe, const Eigen::MatrixXd & probabilities,
                                                     const CandidateParams & params);

// The rows of `table` to evaluate on: every row for split "all"; else the rows of that
// split — from the table's split column, or, when the table has none and the probe made
// its own split, the same split recomputed (dataset::make_splits with the probe's seed and
// proportions, so the same table gives the same rows). Throws Error(InvalidArgument).
std::vector<std::size_t> evaluation_rows(const Probe & probe, const vision::FeatureTable & table,
                                         std::string_view split);

struct ConformalEvaluation {
    ConformalParams params;
    double alpha = 0.0;
    double q_hat = 0.0;
    std::size_t min_size = 0;
    std::size_t max_size = 0;
    double coverage = 0.0;       // fraction of rows whose class is in its set
    double mean_set_size = 0.0;
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

// Scores the probe on the given rows of a compatible table; every row needs a label.
Evaluation evaluate(const Probe & probe, const vision::FeatureTable & table, const std::vector<std::size_t> & rows,
                    std::size_t top_k, const SetParams & set, std::string_view table_name);

}  // namespace dermlens::probe
