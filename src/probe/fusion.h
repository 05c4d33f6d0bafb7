// Late fusion of the probe's and the VLM's probabilities over one image's candidates
// (issue 5, "Deciding"; docs/probes.md, "Fusion with the VLM"):
//
//   fused_c ∝ p_probe_c^w · p_vlm_c^(1 − w)      renormalised over the candidates, w in [0, 1]
//
// a weighted geometric mean (a product of experts): w = 1 is the probe alone, w = 0 the
// VLM alone. The weight is chosen on validation images (`dermlens tune`) and stored
// with the probe (Probe::fusion).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace dermlens::probe {

// Probabilities are floored at this before the logarithm: a 0 from one side would
// otherwise veto its candidate at every w in (0, 1) (0^w = 0) and make the log loss
// infinite; 1e-12 keeps it a strong but finite penalty, far below any probability a
// softmax or option scoring reports for a candidate it considers.
inline constexpr double kFusionFloor = 1e-12;

// Each side is first renormalised over the candidates (so a probe's probabilities of
// its top k can be passed as they are), floored at kFusionFloor, then combined. Throws
// Error(InvalidInput) on empty or different-sized sides, a negative or non-finite
// probability or a side whose probabilities sum to 0; Error(InvalidArgument) on w outside [0, 1].
std::vector<double> fuse(const std::vector<double> & probe, const std::vector<double> & vlm, double weight);

// 0, 0.05, 0.10, …, 1 (21 weights, each i / 20 exactly rounded).
std::vector<double> default_fusion_grid();

struct FusionExample {
    std::vector<double> probe;  // over the image's candidates
    std::vector<double> vlm;    // over the same candidates, in the same order
    std::optional<std::size_t> truth;  // index into the candidates; empty when the true class is not one (always wrong)
};

struct FusionChoice {
    double weight = 0.0;
    std::vector<double> grid;
    std::vector<double> accuracy;  // per weight of grid: argmax (first maximum) = truth, over all rows
    std::vector<double> log_loss;  // per weight: mean −log fused[truth] over the rows with a truth; NaN when none has one
    std::size_t rows = 0;
};

// Chooses w from `grid` on validation examples: the highest accuracy; ties go to the
// lower mean log loss (within 1e-12), then to the weight closest to 0.5 (within
// 1e-12), then to the smaller weight. Throws Error(InvalidInput) on no rows or a
// malformed row (naming it), Error(InvalidArgument) on an empty grid or a weight outside [0, 1].
FusionChoice choose_fusion_weight(const std::vector<FusionExample> & validation,
                                  std::vector<double> grid = default_fusion_grid());

}  // namespace dermlens::probe
