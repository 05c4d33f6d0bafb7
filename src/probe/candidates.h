// Candidate selection (docs/probes.md): the classes a probe proposes for an image, the top k
// or its conformal set (probe/conformal.h) at the calibrated or a given level, within size
// limits; and recalibrating a loaded probe for another score or class-conditional sets.
#pragma once

#include "probe/probe.h"

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
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
    // Randomised scores: the uniform draws of the rows, a stream apart from the calibration's
    // (row i of a call draws uniform_draw(test_draw_stream(calibration seed, draw_seed), i)).
    // One image at a time (diagnose), pass a seed per image so that images draw independently.
    std::uint64_t draw_seed = 0;

    void validate() const;  // throws Error(InvalidArgument)
};

// The stream of the test rows' draws: never the calibration's own (draw_seed + 1 is not 0 mod 2^64
// times an odd number).
std::uint64_t test_draw_stream(std::uint64_t calibration_seed, std::uint64_t draw_seed);

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

// What a conformal set promises, for reports: "P(true class in set) >= 0.9, marginal over images
// (lac score, alpha 0.1)" or "..., for each class (class-conditional)".
std::string set_guarantee(const Calibration & calibration, double alpha);

// Recalibrates `probe` on its calibration rows when `score` (a name of parse_conformal_score)
// or `per_class` asks for other sets than it was calibrated for; RAPS's lambda and k_reg are
// chosen again unless given or kept from a RAPS calibration. Throws Error(InvalidArgument)
// naming `probe_name` when it has no calibration, or keeps no rows to recalibrate on.
void recalibrate_probe(Probe & probe, std::string_view probe_name, const std::optional<std::string> & score,
                       bool per_class, std::optional<double> lambda = std::nullopt,
                       std::optional<std::size_t> k_reg = std::nullopt);

// A warning naming the classes with too few calibration rows for class-conditional sets at
// `alpha` (their sets always hold them), with the minimum; "" when there are none.
std::string undercalibrated_warning(const Probe & probe, double alpha);

}  // namespace dermlens::probe
