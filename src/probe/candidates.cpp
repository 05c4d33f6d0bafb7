#include "probe/candidates.h"

#include "dermlens/error.h"
#include "metrics/metrics.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace dermlens::probe {
namespace {

const Calibration & calibration_of(const Probe & probe) {
    if (!probe.calibration) {
        throw Error(ErrorKind::InvalidArgument,
                    "the probe has no conformal calibration (it was trained without calib rows): use top-k candidates");
    }
    return *probe.calibration;
}

}  // namespace

void SetParams::validate() const {
    if (alpha && !(*alpha > 0.0 && *alpha < 1.0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("alpha {} must be in (0, 1)", *alpha), "alpha");
    }
    if (max_size != 0 && max_size < min_size) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("the largest set size {} is below the smallest {}", max_size, min_size));
    }
}

std::uint64_t test_draw_stream(std::uint64_t calibration_seed, std::uint64_t draw_seed) {
    return calibration_seed ^ ((draw_seed + 1) * 0x9E3779B97F4A7C15ull);
}

const char * candidate_mode_name(CandidateMode mode) noexcept {
    switch (mode) {
        case CandidateMode::TopK:      return "topk";
        case CandidateMode::Conformal: return "conformal";
    }
    return "unknown";
}

CandidateMode parse_candidate_mode(const std::string & text) {
    for (const auto mode : {CandidateMode::TopK, CandidateMode::Conformal}) {
        if (text == candidate_mode_name(mode)) {
            return mode;
        }
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("candidates '{}' is not topk or conformal", text));
}

void CandidateParams::validate() const {
    if (top_k == 0) {
        throw Error(ErrorKind::InvalidArgument, "top_k must be at least 1", "top_k");
    }
    set.validate();
}

std::vector<std::vector<std::size_t>> candidate_sets(const Probe & probe, const Eigen::MatrixXd & probabilities,
                                                     const CandidateParams & params) {
    params.validate();
    std::vector<std::vector<std::size_t>> sets;
    sets.reserve(static_cast<std::size_t>(probabilities.rows()));
    if (params.mode == CandidateMode::TopK) {
        for (Eigen::Index i = 0; i < probabilities.rows(); ++i) {
            auto ranked = metrics::ranked_classes(probabilities.row(i));
            ranked.resize(std::min(ranked.size(), params.top_k));
            sets.push_back(std::move(ranked));
        }
        return sets;
    }
    const Calibration & calibration = calibration_of(probe);
    const double alpha = params.set.alpha.value_or(calibration.alpha);
    const std::vector<double> thresholds = calibration.thresholds(alpha, probe.classes.size());
    const std::uint64_t stream = test_draw_stream(calibration.seed, params.set.draw_seed);
    for (Eigen::Index i = 0; i < probabilities.rows(); ++i) {
        sets.push_back(prediction_set(probabilities.row(i), thresholds, calibration.params,
                                      uniform_draw(stream, static_cast<std::size_t>(i)), params.set.min_size,
                                      params.set.max_size));
    }
    return sets;
}

std::string set_guarantee(const Calibration & calibration, double alpha) {
    return fmt::format("P(true class in set) >= {:g}, {} ({} score, alpha {:g}, {} calibration rows)", 1.0 - alpha,
                       calibration.per_class ? "for each class (class-conditional)" : "marginal over images",
                       conformal_score_name(calibration.params), alpha, calibration.scores.size());
}

void recalibrate_probe(Probe & probe, std::string_view probe_name, const std::optional<std::string> & score,
                       bool per_class, std::optional<double> lambda, std::optional<std::size_t> k_reg) {
    if (!probe.calibration) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("probe '{}' has no conformal calibration (it was trained without calib rows)",
                                probe_name));
    }
    const Calibration & current = *probe.calibration;
    ConformalOptions options;
    options.params = score ? parse_conformal_score(*score) : current.params;
    options.per_class = per_class || current.per_class;
    const bool same_score = options.params.score == current.params.score &&
                            options.params.randomized == current.params.randomized;
    if (options.params.score == ConformalScore::Raps) {
        options.lambda = lambda ? lambda : same_score ? std::optional<double>(current.params.lambda) : std::nullopt;
        options.k_reg = k_reg ? k_reg : same_score ? std::optional<std::size_t>(current.params.k_reg) : std::nullopt;
    } else if (lambda || k_reg) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("lambda and k_reg belong to the raps score, not {}", conformal_score_name(options.params)));
    }
    if (same_score && options.per_class == current.per_class && (!lambda || *lambda == current.params.lambda) &&
        (!k_reg || *k_reg == current.params.k_reg)) {
        return;  // the sets the probe was calibrated for
    }
    try {
        probe.calibration = recalibrate(current, options);
    } catch (const Error & e) {
        throw Error(e.kind(), fmt::format("probe '{}': {}", probe_name, e.what()));
    }
}

std::string undercalibrated_warning(const Probe & probe, double alpha) {
    if (!probe.calibration) {
        return "";
    }
    const auto classes = probe.calibration->undercalibrated_classes(alpha, probe.classes.size());
    if (classes.empty()) {
        return "";
    }
    const auto counts = probe.calibration->rows_per_class(probe.classes.size());
    std::vector<std::string> named;
    for (const std::size_t c : classes) {
        named.push_back(fmt::format("'{}' ({} rows)", probe.classes[c], counts[c]));
    }
    return fmt::format("class-conditional conformal sets: {} of the classes have fewer than {} calibration rows, the "
                       "fewest whose (1 - alpha) quantile exists at alpha {:g} (ceil(1 / alpha) - 1): {}; their sets "
                       "always hold them",
                       classes.size(), minimum_calibration_rows(alpha), alpha, fmt::join(named, ", "));
}

}  // namespace dermlens::probe
