#include "probe/fusion.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

namespace dermlens::probe {
namespace {

// Equal up to rounding: ties in the weight choice are decided by the next criterion.
constexpr double kTieTolerance = 1e-12;

void check_weight(double weight, std::string_view context) {
    if (!(weight >= 0.0 && weight <= 1.0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("{}: weight {} is outside [0, 1]", context, weight));
    }
}

void check_side(const std::vector<double> & values, std::string_view side, std::string_view context) {
    double sum = 0.0;
    for (std::size_t c = 0; c < values.size(); ++c) {
        if (!(values[c] >= 0.0) || !std::isfinite(values[c])) {
            throw Error(ErrorKind::InvalidInput, fmt::format("{}: {} probability of candidate {} is {}, not a finite "
                                                             "number >= 0",
                                                             context, side, c, values[c]));
        }
        sum += values[c];
    }
    if (!(sum > 0.0)) {
        throw Error(ErrorKind::InvalidInput, fmt::format("{}: the {} probabilities are all 0", context, side));
    }
}

void check_sides(const std::vector<double> & probe, const std::vector<double> & vlm, std::string_view context) {
    if (probe.empty() || probe.size() != vlm.size()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("{}: the probe has {} candidate probabilities and the VLM {}; both need the same, "
                                "at least one",
                                context, probe.size(), vlm.size()));
    }
    check_side(probe, "probe", context);
    check_side(vlm, "VLM", context);
}

// log(max(p_c / sum p, floor)) per candidate.
std::vector<double> floored_log(const std::vector<double> & values) {
    double sum = 0.0;
    for (const double v : values) {
        sum += v;
    }
    std::vector<double> out(values.size());
    for (std::size_t c = 0; c < values.size(); ++c) {
        out[c] = std::log(std::max(values[c] / sum, kFusionFloor));
    }
    return out;
}

// The fusion of checked sides, in log space (exp of the weighted log sum, shifted by its
// maximum so that nothing underflows to an all-zero row).
std::vector<double> fuse_checked(const std::vector<double> & probe, const std::vector<double> & vlm, double weight) {
    const std::vector<double> log_probe = floored_log(probe);
    const std::vector<double> log_vlm = floored_log(vlm);
    std::vector<double> fused(probe.size());
    for (std::size_t c = 0; c < fused.size(); ++c) {
        fused[c] = weight * log_probe[c] + (1.0 - weight) * log_vlm[c];
    }
    const double top = *std::max_element(fused.begin(), fused.end());
    double sum = 0.0;
    for (double & value : fused) {
        value = std::exp(value - top);
        sum += value;
    }
    for (double & value : fused) {
        value /= sum;
    }
    return fused;
}

// Is choice a (by accuracy, then log loss, then closeness to 0.5, then smaller weight) better than b?
bool better(double accuracy_a, double loss_a, double weight_a, double accuracy_b, double loss_b, double weight_b) {
    if (std::abs(accuracy_a - accuracy_b) > kTieTolerance) {
        return accuracy_a > accuracy_b;
    }
    // NaN log losses (no row has its truth among the candidates) are equal for every weight.
    if (!std::isnan(loss_a) && std::abs(loss_a - loss_b) > kTieTolerance) {
        return loss_a < loss_b;
    }
    const double distance_a = std::abs(weight_a - 0.5);
    const double distance_b = std::abs(weight_b - 0.5);
    if (std::abs(distance_a - distance_b) > kTieTolerance) {
        return distance_a < distance_b;
    }
    return weight_a < weight_b;
}

}  // namespace

std::vector<double> fuse(const std::vector<double> & probe, const std::vector<double> & vlm, double weight) {
    check_weight(weight, "fusion");
    check_sides(probe, vlm, "fusion");
    return fuse_checked(probe, vlm, weight);
}

std::vector<double> default_fusion_grid() {
    std::vector<double> grid;
    for (int i = 0; i <= 20; ++i) {
        grid.push_back(i / 20.0);
    }
    return grid;
}

FusionChoice choose_fusion_weight(const std::vector<FusionExample> & validation, std::vector<double> grid) {
    if (validation.empty()) {
        throw Error(ErrorKind::InvalidInput, "fusion weight: no validation rows");
    }
    if (grid.empty()) {
        throw Error(ErrorKind::InvalidArgument, "fusion weight: the grid of weights is empty");
    }
    for (const double weight : grid) {
        check_weight(weight, "fusion weight grid");
    }
    std::size_t rows_with_truth = 0;
    for (std::size_t row = 0; row < validation.size(); ++row) {
        const FusionExample & example = validation[row];
        const std::string context = fmt::format("fusion validation row {}", row);
        check_sides(example.probe, example.vlm, context);
        if (example.truth) {
            if (*example.truth >= example.probe.size()) {
                throw Error(ErrorKind::InvalidInput,
                            fmt::format("{}: truth is candidate {}, but there are {} candidates", context,
                                        *example.truth, example.probe.size()));
            }
            ++rows_with_truth;
        }
    }
    FusionChoice choice;
    choice.rows = validation.size();
    for (const double weight : grid) {
        std::size_t correct = 0;
        double loss = 0.0;
        for (const FusionExample & example : validation) {
            if (!example.truth) {
                continue;  // wrong at every weight
            }
            const std::vector<double> fused = fuse_checked(example.probe, example.vlm, weight);
            const auto predicted = static_cast<std::size_t>(std::max_element(fused.begin(), fused.end()) -
                                                            fused.begin());  // the first maximum
            correct += predicted == *example.truth ? 1 : 0;
            loss -= std::log(fused[*example.truth]);
        }
        choice.accuracy.push_back(static_cast<double>(correct) / static_cast<double>(validation.size()));
        choice.log_loss.push_back(rows_with_truth == 0 ? std::numeric_limits<double>::quiet_NaN()
                                                       : loss / static_cast<double>(rows_with_truth));
    }
    std::size_t best = 0;
    for (std::size_t g = 1; g < grid.size(); ++g) {
        if (better(choice.accuracy[g], choice.log_loss[g], grid[g], choice.accuracy[best], choice.log_loss[best],
                   grid[best])) {
            best = g;
        }
    }
    choice.weight = grid[best];
    choice.grid = std::move(grid);
    return choice;
}

}  // namespace dermlens::probe
