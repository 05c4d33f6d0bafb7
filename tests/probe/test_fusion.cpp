// Log-linear fusion of probe and VLM probabilities and the choice of its weight:
// the limits w = 0 and 1, hand-computed values, zeros, errors, numpy
// (tests/probe/fusion_reference.py) on the same random rows, and the weight chosen
// when one side is noise.
#include "dermlens/error.h"
#include "probe/fusion.h"
#include "common/random.h"
#include "support/run_process.h"
#include "synthetic.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>

namespace {

namespace fs = std::filesystem;
using namespace dermlens::probe;
using dermlens::uniform_index;
using dermlens::uniform_unit;
using dermlens::ErrorKind;
using nlohmann::json;
using testing::ElementsAre;
using testing::HasSubstr;

std::vector<double> normalised(std::vector<double> values) {
    const double sum = std::accumulate(values.begin(), values.end(), 0.0);
    for (double & v : values) {
        v /= sum;
    }
    return values;
}

// softmax(noise + signal at the truth) over k candidates, a few entries set to 0.
std::vector<double> side(std::size_t k, std::optional<std::size_t> truth, double signal, double zero_rate,
                         std::mt19937_64 & rng) {
    std::vector<double> p(k);
    for (std::size_t c = 0; c < k; ++c) {
        p[c] = std::exp(dermlens::test::normal(rng) + (truth == c ? signal : 0.0));
    }
    for (std::size_t c = 0; c < k; ++c) {
        if (uniform_unit(rng) < zero_rate && p[c] != *std::max_element(p.begin(), p.end())) {
            p[c] = 0.0;
        }
    }
    return normalised(p);
}

// Rows of 2-6 candidates; the truth is no candidate in `missing` of them.
std::vector<FusionExample> examples(std::size_t rows, double probe_signal, double vlm_signal, double missing,
                                    double zero_rate, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<FusionExample> out;
    for (std::size_t i = 0; i < rows; ++i) {
        const std::size_t k = 2 + uniform_index(rng, 5);
        FusionExample example;
        if (uniform_unit(rng) >= missing) {
            example.truth = uniform_index(rng, k);
        }
        example.probe = side(k, example.truth, probe_signal, zero_rate, rng);
        example.vlm = side(k, example.truth, vlm_signal, zero_rate, rng);
        out.push_back(std::move(example));
    }
    return out;
}

std::string error_of(const std::function<void()> & action, ErrorKind expected) {
    try {
        action();
    } catch (const dermlens::Error & e) {
        EXPECT_EQ(e.kind(), expected) << e.what();
        return e.what();
    }
    return "(no error)";
}

TEST(Fusion, WeightOneIsTheProbeAndZeroTheVlm) {
    std::mt19937_64 rng(7);
    for (int trial = 0; trial < 50; ++trial) {
        const std::size_t k = 2 + uniform_index(rng, 8);
        const auto probe = side(k, std::nullopt, 0.0, 0.0, rng);
        const auto vlm = side(k, std::nullopt, 0.0, 0.0, rng);
        const auto only_probe = fuse(probe, vlm, 1.0);
        const auto only_vlm = fuse(probe, vlm, 0.0);
        for (std::size_t c = 0; c < k; ++c) {
            EXPECT_NEAR(only_probe[c], probe[c], 1e-15);
            EXPECT_NEAR(only_vlm[c], vlm[c], 1e-15);
        }
    }
}

TEST(Fusion, IsADistributionForEveryWeightAndIgnoresEachSidesScale) {
    std::mt19937_64 rng(8);
    for (int trial = 0; trial < 50; ++trial) {
        const std::size_t k = 2 + uniform_index(rng, 8);
        const auto probe = side(k, std::nullopt, 0.0, 0.3, rng);
        const auto vlm = side(k, std::nullopt, 0.0, 0.3, rng);
        auto scaled_probe = probe;  // as a probe's probabilities of its top k: they sum to less than 1
        for (double & p : scaled_probe) {
            p *= 0.37;
        }
        for (const double w : default_fusion_grid()) {
            const auto fused = fuse(probe, vlm, w);
            ASSERT_EQ(fused.size(), k);
            EXPECT_NEAR(std::accumulate(fused.begin(), fused.end(), 0.0), 1.0, 1e-12);
            for (std::size_t c = 0; c < k; ++c) {
                EXPECT_GE(fused[c], 0.0);
                EXPECT_TRUE(std::isfinite(fused[c]));
            }
            const auto from_scaled = fuse(scaled_probe, vlm, w);
            for (std::size_t c = 0; c < k; ++c) {
                EXPECT_NEAR(from_scaled[c], fused[c], 1e-14);
            }
        }
    }
}

TEST(Fusion, MatchesHandComputedValues) {
    // w = 1/2: ∝ sqrt(0.12), sqrt(0.06), sqrt(0.06) = √2 : 1 : 1, so the first is √2 / (√2 + 2) = √2 − 1.
    const auto half = fuse({0.6, 0.3, 0.1}, {0.2, 0.2, 0.6}, 0.5);
    EXPECT_NEAR(half[0], std::sqrt(2.0) - 1.0, 1e-15);
    EXPECT_NEAR(half[1], (2.0 - std::sqrt(2.0)) / 2.0, 1e-15);
    EXPECT_NEAR(half[2], (2.0 - std::sqrt(2.0)) / 2.0, 1e-15);
    // w = 1/4: the probe is flat, so the ratio is (0.9 / 0.1)^(3/4) = 3√3.
    const auto quarter = fuse({0.5, 0.5}, {0.9, 0.1}, 0.25);
    EXPECT_NEAR(quarter[0], 3.0 * std::sqrt(3.0) / (3.0 * std::sqrt(3.0) + 1.0), 1e-15);
    // Where both sides agree, fusion agrees with them at every weight.
    for (const double w : {0.0, 0.3, 0.8, 1.0}) {
        const auto same = fuse({0.7, 0.2, 0.1}, {7.0, 2.0, 1.0}, w);
        EXPECT_NEAR(same[0], 0.7, 1e-15);
        EXPECT_NEAR(same[1], 0.2, 1e-15);
    }
}

TEST(Fusion, AZeroIsFlooredNotAVeto) {
    // A candidate one side rules out keeps a small, finite share: ∝ sqrt(1e-12 · 0.25) against 0.5 and sqrt(0.125).
    const auto ruled_out = fuse({0.5, 0.5, 0.0}, {0.5, 0.25, 0.25}, 0.5);
    const double small = std::sqrt(kFusionFloor * 0.25);
    EXPECT_NEAR(ruled_out[2], small / (0.5 + std::sqrt(0.125) + small), 1e-18);
    EXPECT_GT(ruled_out[2], 0.0);
    // Each side sure of what the other rules out: two equal vetoes, so the sides' split decides (√2 : 1 : 1 as above).
    const auto vetoes = fuse({1.0, 0.0, 0.0}, {0.0, 0.5, 0.5}, 0.5);
    EXPECT_NEAR(vetoes[0], std::sqrt(2.0) - 1.0, 1e-12);
    EXPECT_NEAR(vetoes[1], (2.0 - std::sqrt(2.0)) / 2.0, 1e-12);
    EXPECT_THAT(fuse({1.0, 0.0}, {0.0, 1.0}, 0.5), ElementsAre(0.5, 0.5));
}

TEST(Fusion, RefusesMalformedSides) {
    EXPECT_THAT(error_of([] { fuse({0.5, 0.5}, {1.0}, 0.5); }, ErrorKind::InvalidInput),
                HasSubstr("fusion: the probe has 2 candidate probabilities and the VLM 1"));
    EXPECT_THAT(error_of([] { fuse({}, {}, 0.5); }, ErrorKind::InvalidInput), HasSubstr("at least one"));
    EXPECT_EQ(error_of([] { fuse({0.5, -0.1}, {0.5, 0.5}, 0.5); }, ErrorKind::InvalidInput),
              "fusion: probe probability of candidate 1 is -0.1, not a finite number >= 0");
    EXPECT_THAT(error_of([] { fuse({0.5, 0.5}, {NAN, 0.5}, 0.5); }, ErrorKind::InvalidInput),
                HasSubstr("VLM probability of candidate 0 is nan"));
    EXPECT_EQ(error_of([] { fuse({0.5, 0.5}, {0.0, 0.0}, 0.5); }, ErrorKind::InvalidInput),
              "fusion: the VLM probabilities are all 0");
    EXPECT_EQ(error_of([] { fuse({0.5, 0.5}, {0.5, 0.5}, 1.5); }, ErrorKind::InvalidArgument),
              "fusion: weight 1.5 is outside [0, 1]");
    EXPECT_THAT(error_of([] { fuse({0.5, 0.5}, {0.5, 0.5}, NAN); }, ErrorKind::InvalidArgument),
                HasSubstr("weight nan"));
}

TEST(FusionWeight, DefaultGridIsTwentyOneStepsOfOneTwentieth) {
    const auto grid = default_fusion_grid();
    ASSERT_EQ(grid.size(), 21u);
    EXPECT_EQ(grid.front(), 0.0);
    EXPECT_EQ(grid[3], 0.15);  // exactly the double nearest 0.15, not 3 × 0.05
    EXPECT_EQ(grid[10], 0.5);
    EXPECT_EQ(grid.back(), 1.0);
}

TEST(FusionWeight, ChoosesTheProbeWhenTheVlmIsNoiseAndTheVlmWhenTheProbeIs) {
    const FusionChoice probe_only = choose_fusion_weight(examples(2000, 2.0, 0.0, 0.1, 0.05, 1));
    const FusionChoice vlm_only = choose_fusion_weight(examples(2000, 0.0, 2.0, 0.1, 0.05, 2));
    std::printf("noise VLM: w = %.2f (accuracy %.4f; at w = 0: %.4f)\n", probe_only.weight,
                probe_only.accuracy[static_cast<std::size_t>(probe_only.weight * 20 + 0.5)], probe_only.accuracy[0]);
    std::printf("noise probe: w = %.2f (accuracy %.4f; at w = 1: %.4f)\n", vlm_only.weight,
                vlm_only.accuracy[static_cast<std::size_t>(vlm_only.weight * 20 + 0.5)], vlm_only.accuracy[20]);
    EXPECT_GE(probe_only.weight, 0.85);
    EXPECT_LE(vlm_only.weight, 0.15);
    EXPECT_EQ(probe_only.rows, 2000u);
    EXPECT_EQ(probe_only.grid, default_fusion_grid());
    EXPECT_EQ(probe_only.accuracy.size(), 21u);
    EXPECT_EQ(probe_only.log_loss.size(), 21u);
    // 10 % of the rows have no true candidate: they count as wrong.
    EXPECT_LT(*std::max_element(probe_only.accuracy.begin(), probe_only.accuracy.end()), 0.9);
}

TEST(FusionWeight, TwoInformativeSidesFuseBetterThanEither) {
    const FusionChoice choice = choose_fusion_weight(examples(2000, 1.5, 1.5, 0.0, 0.0, 3));
    const auto at = static_cast<std::size_t>(choice.weight * 20 + 0.5);
    std::printf("equal sides: w = %.2f, accuracy %.4f (probe only %.4f, VLM only %.4f)\n", choice.weight,
                choice.accuracy[at], choice.accuracy[20], choice.accuracy[0]);
    EXPECT_GT(choice.weight, 0.2);
    EXPECT_LT(choice.weight, 0.8);
    EXPECT_GT(choice.accuracy[at], choice.accuracy[0] + 0.03);
    EXPECT_GT(choice.accuracy[at], choice.accuracy[20] + 0.03);
}

TEST(FusionWeight, TiesGoToLowerLogLossThenToTheMiddleThenToTheSmallerWeight) {
    // Both sides pick the truth at every weight: the sharper probe gives the lower log loss.
    const FusionChoice sharper = choose_fusion_weight({{{0.9, 0.1}, {0.6, 0.4}, 0}});
    EXPECT_EQ(sharper.weight, 1.0);
    EXPECT_THAT(sharper.accuracy, testing::Each(1.0));
    EXPECT_NEAR(sharper.log_loss[20], -std::log(0.9), 1e-15);
    // No truth among the candidates: accuracy 0 and no log loss anywhere.
    const FusionChoice none = choose_fusion_weight({{{0.9, 0.1}, {0.2, 0.8}, std::nullopt}});
    EXPECT_EQ(none.weight, 0.5);
    EXPECT_THAT(none.accuracy, testing::Each(0.0));
    EXPECT_TRUE(std::isnan(none.log_loss[0]));
    EXPECT_EQ(choose_fusion_weight({{{0.9, 0.1}, {0.2, 0.8}, std::nullopt}}, {0.8, 0.4, 0.6}).weight, 0.4);
    // Equal sides: everything ties but the distance to 0.5.
    EXPECT_EQ(choose_fusion_weight({{{0.7, 0.3}, {0.7, 0.3}, 1}}, {0.0, 0.35, 0.7, 1.0}).weight, 0.35);
}

TEST(FusionWeight, RefusesNoRowsAMalformedRowOrGrid) {
    EXPECT_EQ(error_of([] { choose_fusion_weight({}); }, ErrorKind::InvalidInput),
              "fusion weight: no validation rows");
    const FusionExample good{{0.5, 0.5}, {0.4, 0.6}, 0};
    EXPECT_THAT(error_of([&] { choose_fusion_weight({good, good, {{0.5, 0.5}, {0.2, 0.3, 0.5}, 0}}); },
                         ErrorKind::InvalidInput),
                HasSubstr("fusion validation row 2: the probe has 2 candidate probabilities and the VLM 3"));
    EXPECT_EQ(error_of([&] { choose_fusion_weight({good, {{0.5, 0.5}, {0.4, 0.6}, 2}}); }, ErrorKind::InvalidInput),
              "fusion validation row 1: truth is candidate 2, but there are 2 candidates");
    EXPECT_EQ(error_of([&] { choose_fusion_weight({good}, {}); }, ErrorKind::InvalidArgument),
              "fusion weight: the grid of weights is empty");
    EXPECT_EQ(error_of([&] { choose_fusion_weight({good}, {0.5, -0.5}); }, ErrorKind::InvalidArgument),
              "fusion weight grid: weight -0.5 is outside [0, 1]");
}

// The same random rows through numpy: fused probabilities, accuracy, log loss and the chosen weight.
TEST(FusionWeight, MatchesNumpy) {
    const fs::path dir = fs::temp_directory_path() / fmt::format("dermlens_fusion_{}", ::getpid());
    fs::create_directories(dir);
    const auto validation = examples(300, 1.2, 0.8, 0.1, 0.1, 4);
    json data = {{"floor", kFusionFloor}, {"grid", default_fusion_grid()}, {"examples", json::array()}};
    for (const auto & e : validation) {
        data["examples"].push_back({{"probe", e.probe},
                                    {"vlm", e.vlm},
                                    {"truth", e.truth ? json(*e.truth) : json(nullptr)}});  // doubles round-trip exact
    }
    const fs::path path = dir / "fusion.json";
    std::ofstream(path) << data.dump();
    const auto result = dermlens::test::run_process(
        {DERMLENS_PYTHON, std::string(DERMLENS_SOURCE_DIR) + "/tests/probe/fusion_reference.py", path.string()});
    fs::remove_all(dir);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const json theirs = json::parse(result.out);

    const FusionChoice ours = choose_fusion_weight(validation);
    double max_diff = 0.0;
    for (std::size_t g = 0; g < ours.grid.size(); ++g) {
        for (std::size_t row = 0; row < validation.size(); ++row) {
            const auto fused = fuse(validation[row].probe, validation[row].vlm, ours.grid[g]);
            const auto reference = theirs["fused"][g][row].get<std::vector<double>>();
            ASSERT_EQ(fused.size(), reference.size());
            for (std::size_t c = 0; c < fused.size(); ++c) {
                max_diff = std::max(max_diff, std::abs(fused[c] - reference[c]));
            }
        }
        EXPECT_EQ(ours.accuracy[g], theirs["accuracy"][g].get<double>()) << "w " << ours.grid[g];
        EXPECT_NEAR(ours.log_loss[g], theirs["log_loss"][g].get<double>(), 1e-12) << "w " << ours.grid[g];
    }
    std::printf("numpy: max |fused - numpy| = %.3g over %zu rows x %zu weights; w = %.2f (numpy %.2f), accuracy "
                "%.4f\n",
                max_diff, validation.size(), ours.grid.size(), ours.weight, theirs["weight"].get<double>(),
                ours.accuracy[static_cast<std::size_t>(ours.weight * 20 + 0.5)]);
    EXPECT_LT(max_diff, 1e-12);
    EXPECT_EQ(ours.weight, theirs["weight"].get<double>());
}

}  // namespace
