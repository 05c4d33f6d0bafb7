// GRPO (paper 002 eq. 4 and appendix C; paper 003 eq. 5 and its token-level objective): rewards
// normalised within each group of completions of one prompt, and the clipped surrogate per
// token with the k3 estimate of KL(pi_theta || pi_ref), as the Skin-R1 code's TRL trainer
// computes it. A reference for trainers and for checking one: dermlens trains nothing itself.
#include "dermlens/error.h"
#include "dermlens/rewards.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dermlens::rewards {
namespace {

struct TokenTerms {
    double surrogate = 0;
    double kl = 0;
    bool clipped = false;
};

TokenTerms token_terms(double logp, double old_logp, double ref_logp, double advantage, const GrpoParams & params) {
    const double ratio = std::exp(logp - old_logp);
    const double clipped_ratio = std::clamp(ratio, 1 - params.clip_low, 1 + params.clip_high);
    const double unclipped = ratio * advantage;
    const double clipped = clipped_ratio * advantage;
    const double log_ref_ratio = ref_logp - logp;
    return {std::min(unclipped, clipped), std::exp(log_ref_ratio) - log_ref_ratio - 1, clipped < unclipped};
}

void check_completion(const GrpoCompletion & completion, std::size_t index) {
    const std::size_t n = completion.logp.size();
    if (n == 0 || completion.old_logp.size() != n || completion.ref_logp.size() != n) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("batch[{}]: logp, old_logp and ref_logp must have the same length >= 1 (got {}, {}, {})",
                                index, n, completion.old_logp.size(), completion.ref_logp.size()),
                    "batch");
    }
}

}  // namespace

std::vector<double> group_advantages(const std::vector<double> & rewards, std::size_t group_size, double epsilon) {
    if (group_size < 2 || rewards.size() % group_size != 0) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("group_size {}: must be >= 2 and divide the {} rewards", group_size, rewards.size()),
                    "group_size");
    }
    if (!(epsilon >= 0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("epsilon {}: must be >= 0", epsilon), "epsilon");
    }
    std::vector<double> advantages(rewards.size(), 0.0);
    for (std::size_t start = 0; start < rewards.size(); start += group_size) {
        const auto first = rewards.begin() + static_cast<std::ptrdiff_t>(start);
        const auto last = first + static_cast<std::ptrdiff_t>(group_size);
        if (std::all_of(first, last, [&](double r) { return r == *first; })) {
            continue;  // no signal: every completion did equally well
        }
        const double n = static_cast<double>(group_size);
        const double mean = std::accumulate(first, last, 0.0) / n;
        const double squares = std::accumulate(first, last, 0.0, [&](double sum, double r) { return sum + (r - mean) * (r - mean); });
        const double std_dev = std::sqrt(squares / (n - 1));
        for (std::size_t j = start; j < start + group_size; ++j) {
            advantages[j] = (rewards[j] - mean) / (std_dev + epsilon);
        }
    }
    return advantages;
}

void GrpoParams::validate() const {
    if (!(clip_low >= 0 && clip_low < 1) || !(clip_high >= 0)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("clip_low {} / clip_high {}: need 0 <= clip_low < 1 and clip_high >= 0", clip_low, clip_high),
                    "clip_low");
    }
    if (!(beta >= 0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("beta {}: must be >= 0", beta), "beta");
    }
}

GrpoObjective grpo_objective(const std::vector<GrpoCompletion> & batch, const GrpoParams & params) {
    params.validate();
    if (batch.empty()) {
        throw Error(ErrorKind::InvalidArgument, "batch: no completions", "batch");
    }
    GrpoObjective total;
    std::size_t tokens = 0;
    std::size_t clipped = 0;
    for (std::size_t j = 0; j < batch.size(); ++j) {
        const GrpoCompletion & completion = batch[j];
        check_completion(completion, j);
        double surrogate = 0;
        double kl = 0;
        for (std::size_t t = 0; t < completion.logp.size(); ++t) {
            const TokenTerms terms = token_terms(completion.logp[t], completion.old_logp[t], completion.ref_logp[t],
                                                 completion.advantage, params);
            surrogate += terms.surrogate;
            kl += terms.kl;
            clipped += terms.clipped ? 1 : 0;
        }
        const double length = static_cast<double>(completion.logp.size());
        // SequenceMean weighs each completion equally; TokenMean each token (divided once below).
        const double scale = params.aggregation == LossAggregation::SequenceMean ? 1 / length : 1.0;
        total.surrogate += surrogate * scale;
        total.kl += kl * scale;
        tokens += completion.logp.size();
    }
    const double divisor =
        params.aggregation == LossAggregation::SequenceMean ? static_cast<double>(batch.size()) : static_cast<double>(tokens);
    total.surrogate /= divisor;
    total.kl /= divisor;
    total.loss = -(total.surrogate - params.beta * total.kl);
    total.clip_fraction = static_cast<double>(clipped) / static_cast<double>(tokens);
    return total;
}

}  // namespace dermlens::rewards
