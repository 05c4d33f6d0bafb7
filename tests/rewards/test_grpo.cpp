// GRPO's advantages and per-token objective: hand-computed values, the properties of group
// normalisation, and NumPy (tests/rewards/grpo_reference.py) on random log-probabilities to 1e-9.
#include "dermlens/rewards.h"
#include "support/expect_error.h"
#include "support/python_reference.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

namespace dermlens::rewards {
namespace {

TEST(GroupAdvantages, ByHand) {
    // mean 0.25, sample std sqrt((0.5625 + 3 * 0.0625) / 3) = 0.5.
    EXPECT_EQ(group_advantages({1, 0, 0, 0}, 4, 0.0), (std::vector<double>{1.5, -0.5, -0.5, -0.5}));
    const auto with_epsilon = group_advantages({1, 0, 0, 0}, 4);
    EXPECT_DOUBLE_EQ(with_epsilon[0], 0.75 / (0.5 + 1e-4));
    // Equal rewards carry no signal, even where the mean would round: 0.1 * 3 / 3 != 0.1.
    EXPECT_EQ(group_advantages({0.1, 0.1, 0.1, 2, 2, 2}, 3), (std::vector<double>(6, 0.0)));
}

TEST(GroupAdvantages, ZeroMeanAndUnitSampleStdPerNonConstantGroup) {
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> reward(0, 2);
    for (const std::size_t k : {2u, 4u, 8u}) {
        std::vector<double> rewards(k * 50);
        for (auto & r : rewards) {
            r = std::round(reward(rng) * 4) / 4;  // ties and constant groups happen
        }
        const auto a = group_advantages(rewards, k, 0.0);
        for (std::size_t g = 0; g < rewards.size(); g += k) {
            const auto first = a.begin() + static_cast<std::ptrdiff_t>(g);
            const double mean = std::accumulate(first, first + static_cast<std::ptrdiff_t>(k), 0.0) / static_cast<double>(k);
            double squares = 0;
            for (std::size_t j = g; j < g + k; ++j) {
                squares += (a[j] - mean) * (a[j] - mean);
            }
            const bool constant = std::all_of(rewards.begin() + static_cast<std::ptrdiff_t>(g),
                                              rewards.begin() + static_cast<std::ptrdiff_t>(g + k),
                                              [&](double r) { return r == rewards[g]; });
            EXPECT_NEAR(mean, 0.0, 1e-12);
            EXPECT_NEAR(std::sqrt(squares / static_cast<double>(k - 1)), constant ? 0.0 : 1.0, 1e-12);
        }
    }
}

TEST(GroupAdvantages, RefusesGroupsThatDoNotDivide) {
    test::expect_error([] { group_advantages({1, 2, 3}, 2); }, ErrorKind::InvalidArgument, {"group_size"});
    test::expect_error([] { group_advantages({1, 2}, 1); }, ErrorKind::InvalidArgument, {"group_size"});
    test::expect_error([] { group_advantages({1, 2}, 2, -1); }, ErrorKind::InvalidArgument, {"epsilon"});
}

TEST(GrpoObjective, ByHandOneTokenClippedAndOneNot) {
    // Token 1: ratio e^0.5 = 1.6487 > 1.2, A = 1 -> min(1.6487, 1.2) = 1.2, clipped; ref = logp -> KL 0.
    // Token 2: ratio 1, A = 1 -> 1; KL with ref - logp = 1: e - 2.
    GrpoCompletion c{{0.0, -1.0}, {-0.5, -1.0}, {0.0, 0.0}, 1.0};
    const auto o = grpo_objective({c});
    EXPECT_DOUBLE_EQ(o.surrogate, (1.2 + 1.0) / 2);
    EXPECT_DOUBLE_EQ(o.kl, (std::exp(1.0) - 2) / 2);
    EXPECT_DOUBLE_EQ(o.loss, -(1.1 - 0.04 * (std::exp(1.0) - 2) / 2));
    EXPECT_DOUBLE_EQ(o.clip_fraction, 0.5);
    test::expect_error([] { grpo_objective({GrpoCompletion{{0.0}, {0.0, 1.0}, {0.0}, 1}}); }, ErrorKind::InvalidArgument,
                       {"batch[0]"});
}

TEST(GrpoObjective, MatchesNumPyOnRandomLogProbabilities) {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> noise(0, 0.3);
    std::uniform_real_distribution<double> reward(0, 2);
    nlohmann::json input;
    std::vector<double> rewards(16);
    for (auto & r : rewards) {
        r = reward(rng);
    }
    rewards[4] = rewards[5] = rewards[6] = rewards[7] = 1.25;  // one constant group
    const auto advantages = group_advantages(rewards, 4);
    std::vector<GrpoCompletion> batch;
    for (std::size_t j = 0; j < rewards.size(); ++j) {
        GrpoCompletion c;
        const std::size_t length = 1 + rng() % 40;
        for (std::size_t t = 0; t < length; ++t) {
            const double logp = -std::abs(noise(rng)) * 5;
            c.logp.push_back(logp);
            c.old_logp.push_back(logp + noise(rng));
            c.ref_logp.push_back(logp + noise(rng));
        }
        c.advantage = advantages[j];
        batch.push_back(c);
        input["batch"].push_back({{"logp", c.logp}, {"old_logp", c.old_logp}, {"ref_logp", c.ref_logp},
                                  {"advantage", c.advantage}});
    }
    GrpoParams params;
    params.clip_low = 0.2;
    params.clip_high = 0.28;
    input.update({{"rewards", rewards}, {"group_size", 4}, {"epsilon", 1e-4}, {"clip_low", params.clip_low},
                  {"clip_high", params.clip_high}, {"beta", params.beta}});
    test::TempDir dir("grpo");
    const auto file = dir.path() / "grpo.json";
    std::ofstream(file) << input.dump();
    const auto reference = test::python_reference("tests/rewards/grpo_reference.py", {file.string()});

    for (std::size_t j = 0; j < rewards.size(); ++j) {
        EXPECT_NEAR(advantages[j], reference["advantages"][j].get<double>(), 1e-9) << j;
    }
    for (const auto & [aggregation, name] : {std::pair{LossAggregation::SequenceMean, "sequence"},
                                             std::pair{LossAggregation::TokenMean, "token"}}) {
        params.aggregation = aggregation;
        const auto o = grpo_objective(batch, params);
        const auto & expected = reference["objectives"][name];
        EXPECT_NEAR(o.loss, expected["loss"].get<double>(), 1e-9) << name;
        EXPECT_NEAR(o.surrogate, expected["surrogate"].get<double>(), 1e-9) << name;
        EXPECT_NEAR(o.kl, expected["kl"].get<double>(), 1e-9) << name;
    }
}

}  // namespace
}  // namespace dermlens::rewards
