// Attention statistics (grounding/attention_stats.h): hand-checkable cases (uniform, one-hot,
// one token), and random weights, maps with ties and masks against scipy / numpy
// (tests/grounding/attention_reference.py run with Debian's python3); summaries and JSON.
#include "grounding/attention_stats.h"

#include "support/expect_error.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

namespace grounding = dermlens::grounding;
using dermlens::ErrorKind;
using dermlens::test::expect_error;
using grounding::AttentionStats;
using grounding::kHistogramBins;
using grounding::LesionStats;
using nlohmann::json;

const std::string kScript = std::string(DERMLENS_SOURCE_DIR) + "/tests/grounding/attention_reference.py";

std::array<double, kHistogramBins> one_bin(std::size_t bin, double fraction = 1.0) {
    std::array<double, kHistogramBins> histogram{};
    histogram[bin] = fraction;
    return histogram;
}

void expect_histogram(const AttentionStats & stats, const std::array<double, kHistogramBins> & expected) {
    for (std::size_t bin = 0; bin < kHistogramBins; ++bin) {
        EXPECT_NEAR(stats.histogram[bin], expected[bin], 1e-12) << "bin " << grounding::histogram_bin_label(bin);
    }
}

TEST(TokenStatistics, UniformWeightsHaveMaximalEntropyAndTheirShareOfTopTokens) {
    // 1/25, 1/50 and 1/100 fall on bin edges (0.04, 0.02, 0.01): a bin holds its lower edge.
    for (const std::size_t n : {25u, 37u, 40u, 50u, 100u, 256u}) {
        SCOPED_TRACE(n);
        const AttentionStats stats = grounding::token_statistics(std::vector<float>(n, 1.0f));
        EXPECT_EQ(stats.tokens, n);
        EXPECT_NEAR(stats.entropy, std::log(static_cast<double>(n)), 1e-12);
        EXPECT_NEAR(stats.normalised_entropy, 1.0, 1e-12);
        const std::size_t top = (n + 9) / 10;
        EXPECT_EQ(stats.top_decile_tokens, top);
        EXPECT_NEAR(stats.top_decile_share, static_cast<double>(top) / static_cast<double>(n), 1e-12);
        // Every token weighs 1/n: 1/37 is 0.027 (bin 0.02-0.03), 1/256 0.0039 (bin 0-0.01).
        const auto bin = static_cast<std::size_t>(std::floor(100.0 / static_cast<double>(n)));
        expect_histogram(stats, one_bin(bin));
    }
}

TEST(TokenStatistics, OneHotWeightsHaveNoEntropyAndAllMassInTheTopToken) {
    std::vector<float> weights(50, 0.0f);
    weights[17] = 2.5f;
    const AttentionStats stats = grounding::token_statistics(weights);
    EXPECT_EQ(stats.entropy, 0.0);
    EXPECT_EQ(stats.normalised_entropy, 0.0);
    EXPECT_EQ(stats.top_decile_tokens, 5u);
    EXPECT_EQ(stats.top_decile_share, 1.0);
    std::array<double, kHistogramBins> expected = one_bin(0, 49.0 / 50.0);
    expected[kHistogramBins - 1] = 1.0 / 50.0;
    expect_histogram(stats, expected);

    const AttentionStats single = grounding::token_statistics({4.0f});
    EXPECT_EQ(single.entropy, 0.0);
    EXPECT_EQ(single.normalised_entropy, 0.0);
    EXPECT_EQ(single.top_decile_tokens, 1u);
    EXPECT_EQ(single.top_decile_share, 1.0);
    expect_histogram(single, one_bin(kHistogramBins - 1));
}

TEST(TokenStatistics, BinLabelsFollowPaper003) {
    const std::vector<std::string> expected{"0-0.01",    "0.01-0.02", "0.02-0.03", "0.03-0.04",
                                            "0.04-0.05", "0.05-0.06", ">0.06"};
    for (std::size_t bin = 0; bin < kHistogramBins; ++bin) {
        EXPECT_EQ(grounding::histogram_bin_label(bin), expected[bin]);
    }
    expect_error([] { grounding::histogram_bin_label(kHistogramBins); }, ErrorKind::InvalidArgument, {"bin 7"});
}

TEST(TokenStatistics, RefusesWeightsThatAreNotADistribution) {
    expect_error([] { grounding::token_statistics({}); }, ErrorKind::InvalidArgument, {"no token weights"});
    expect_error([] { grounding::token_statistics({0.5f, -0.1f}); }, ErrorKind::InvalidArgument, {"token 1", "-0.1"});
    expect_error([] { grounding::token_statistics({0.5f, std::numeric_limits<float>::quiet_NaN()}); },
                 ErrorKind::InvalidArgument, {"token 1", "nan"});
    expect_error([] { grounding::token_statistics({0.0f, 0.0f}); }, ErrorKind::InvalidArgument, {"sum to 0"});
}

// A lesion rectangle on a 30 x 20 mask.
cv::Mat1b rectangle_mask(const cv::Rect & lesion) {
    cv::Mat1b mask(20, 30, static_cast<unsigned char>(0));
    mask(lesion).setTo(255);
    return mask;
}

TEST(LesionStatistics, MassAndAreaSharesOfAMapThreeTimesHotterOnTheLesion) {
    const cv::Rect lesion(5, 4, 10, 6);
    cv::Mat1f map(20, 30, 1.0f);
    map(lesion).setTo(3.0f);
    const LesionStats stats = grounding::lesion_statistics(map, rectangle_mask(lesion));
    const double area = lesion.area();
    const double pixels = 20.0 * 30.0;
    EXPECT_NEAR(stats.mass_share, 3 * area / (3 * area + pixels - area), 1e-12);
    EXPECT_NEAR(stats.area_share, area / pixels, 1e-12);
    EXPECT_TRUE(stats.pointing_hit);
}

TEST(LesionStatistics, PointingGameTakesTheFirstPeakInRowMajorOrder) {
    const cv::Mat1f flat(20, 30, 0.5f);  // every pixel a peak: the first is (0, 0)
    EXPECT_FALSE(grounding::lesion_statistics(flat, rectangle_mask({1, 0, 5, 5})).pointing_hit);
    EXPECT_TRUE(grounding::lesion_statistics(flat, rectangle_mask({0, 0, 5, 5})).pointing_hit);
    cv::Mat1f two_peaks(20, 30, 0.0f);
    two_peaks(2, 25) = 1.0f;  // row 2 comes before row 15
    two_peaks(15, 3) = 1.0f;
    EXPECT_TRUE(grounding::lesion_statistics(two_peaks, rectangle_mask({20, 0, 10, 5})).pointing_hit);
    EXPECT_FALSE(grounding::lesion_statistics(two_peaks, rectangle_mask({0, 10, 10, 10})).pointing_hit);
}

TEST(LesionStatistics, MaskPixelsFrom128OnAreLesion) {
    cv::Mat1b mask(20, 30, static_cast<unsigned char>(127));
    mask(0, 0) = 128;
    const LesionStats stats = grounding::lesion_statistics(cv::Mat1f(20, 30, 1.0f), mask);
    EXPECT_NEAR(stats.area_share, 1.0 / 600.0, 1e-15);
    EXPECT_NEAR(stats.mass_share, 1.0 / 600.0, 1e-12);
    EXPECT_TRUE(stats.pointing_hit);
}

TEST(LesionStatistics, RefusesMismatchedOrMeaninglessInput) {
    const cv::Mat1b mask = rectangle_mask({5, 5, 5, 5});
    expect_error([&] { grounding::lesion_statistics(cv::Mat1f(20, 31, 1.0f), mask); }, ErrorKind::InvalidArgument,
                 {"31 x 20", "30 x 20"});
    const cv::Mat1b no_lesion(20, 30, static_cast<unsigned char>(0));
    expect_error([&] { grounding::lesion_statistics(cv::Mat1f(20, 30, 1.0f), no_lesion); }, ErrorKind::InvalidArgument,
                 {"no lesion pixels"});
    expect_error([&] { grounding::lesion_statistics(cv::Mat1f(20, 30, 0.0f), mask); }, ErrorKind::InvalidArgument,
                 {"all zero"});
    cv::Mat1f negative(20, 30, 1.0f);
    negative(3, 4) = -1.0f;
    expect_error([&] { grounding::lesion_statistics(negative, mask); }, ErrorKind::InvalidArgument, {"(4, 3)"});
}

// Random inputs for the reference: weights from flat to peaked, maps with many ties, round masks.
struct ReferenceInput {
    std::vector<std::vector<float>> weights;
    std::vector<std::pair<cv::Mat1f, cv::Mat1b>> maps;
    std::vector<std::vector<double>> samples;
};

ReferenceInput random_input() {
    std::mt19937 random(20250611);
    std::normal_distribution<float> normal;
    std::uniform_real_distribution<float> uniform;
    ReferenceInput input;
    for (const std::size_t n : {16u, 77u, 256u, 391u, 576u}) {
        for (const float peakedness : {0.3f, 1.5f, 4.0f}) {
            std::vector<float> weights(n);
            for (float & w : weights) {
                w = uniform(random) < 0.1f ? 0.0f : std::exp(peakedness * normal(random));
            }
            input.weights.push_back(weights);
        }
    }
    for (int i = 0; i < 6; ++i) {
        cv::Mat1f map(30, 40);
        for (float & value : map) {
            value = std::floor(uniform(random) * 4.0f);  // 0..3: ties for the peak everywhere
        }
        cv::Mat1b mask(30, 40, static_cast<unsigned char>(0));
        const cv::Point centre(static_cast<int>(uniform(random) * 40), static_cast<int>(uniform(random) * 30));
        cv::circle(mask, centre, 6 + i, cv::Scalar(255), cv::FILLED);
        mask(static_cast<int>(uniform(random) * 30), static_cast<int>(uniform(random) * 40)) = 128;
        mask(static_cast<int>(uniform(random) * 30), static_cast<int>(uniform(random) * 40)) = 127;
        if (i % 2 == 0) {
            map.setTo(5.0f, mask == 255);  // a peak across the lesion, above the 0..3 elsewhere, tied
        }
        input.maps.emplace_back(map, mask);
    }
    for (const std::size_t n : {2u, 5u, 40u}) {
        std::vector<double> sample(n);
        for (double & value : sample) {
            value = normal(random) * 3.0 + 1.0;
        }
        input.samples.push_back(sample);
    }
    return input;
}

json rows_of(const cv::Mat & matrix) {
    cv::Mat1d values;
    matrix.convertTo(values, CV_64F);
    json rows = json::array();
    for (int y = 0; y < values.rows; ++y) {
        rows.push_back(std::vector<double>(values[y], values[y] + values.cols));
    }
    return rows;
}

json reference(const ReferenceInput & input) {
    json request = {{"weights", input.weights}, {"maps", json::array()}, {"samples", input.samples}};
    for (const auto & [map, mask] : input.maps) {
        request["maps"].push_back({{"map", rows_of(map)}, {"mask", rows_of(mask)}});
    }
    const dermlens::test::TempDir dir("attention_reference");
    dermlens::test::write_file(dir / "input.json", request.dump());
    const auto result = dermlens::test::run_process({DERMLENS_PYTHON, kScript, (dir / "input.json").string()});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return json::parse(result.out);
}

TEST(AttentionStatsReference, AgreesWithScipyAndNumpy) {
    const ReferenceInput input = random_input();
    const json expected = reference(input);
    for (std::size_t i = 0; i < input.weights.size(); ++i) {
        SCOPED_TRACE(::testing::Message() << "weights " << i << " (" << input.weights[i].size() << " tokens)");
        const AttentionStats stats = grounding::token_statistics(input.weights[i]);
        const json & want = expected["weights"][i];
        EXPECT_NEAR(stats.entropy, want["entropy"].get<double>(), 1e-9);
        EXPECT_NEAR(stats.normalised_entropy, want["normalised_entropy"].get<double>(), 1e-9);
        EXPECT_EQ(stats.top_decile_tokens, want["top_decile_tokens"].get<std::size_t>());
        EXPECT_NEAR(stats.top_decile_share, want["top_decile_share"].get<double>(), 1e-9);
        for (std::size_t bin = 0; bin < kHistogramBins; ++bin) {
            EXPECT_NEAR(stats.histogram[bin], want["histogram"][bin].get<double>(), 1e-12) << "bin " << bin;
        }
    }
    int hits = 0;
    for (std::size_t i = 0; i < input.maps.size(); ++i) {
        SCOPED_TRACE(::testing::Message() << "map " << i);
        const LesionStats stats = grounding::lesion_statistics(input.maps[i].first, input.maps[i].second);
        const json & want = expected["maps"][i];
        EXPECT_NEAR(stats.mass_share, want["mass_share"].get<double>(), 1e-12);
        EXPECT_NEAR(stats.area_share, want["area_share"].get<double>(), 1e-12);
        EXPECT_EQ(stats.pointing_hit, want["pointing_hit"].get<bool>());
        hits += stats.pointing_hit ? 1 : 0;
    }
    for (std::size_t i = 0; i < input.samples.size(); ++i) {
        const grounding::MeanStd summary = grounding::mean_std(input.samples[i]);
        EXPECT_NEAR(summary.mean, expected["samples"][i]["mean"].get<double>(), 1e-12);
        EXPECT_NEAR(summary.std, expected["samples"][i]["std"].get<double>(), 1e-12);
        EXPECT_EQ(summary.count, input.samples[i].size());
    }
    // The histograms used more than one bin, and some peaks fell on the lesion and some not.
    const AttentionStats peaked = grounding::token_statistics(input.weights[2]);
    EXPECT_GT(std::count_if(peaked.histogram.begin(), peaked.histogram.end(), [](double f) { return f > 0; }), 2);
    EXPECT_GT(hits, 0);
    EXPECT_LT(hits, static_cast<int>(input.maps.size()));
}

TEST(AttentionStatsJson, NamesEveryFieldAndAddsTheLesionOnlyWhenThereIsOne) {
    AttentionStats stats = grounding::token_statistics({1.0f, 3.0f, 0.0f, 4.0f});
    nlohmann::ordered_json out = grounding::to_json(stats);
    const std::vector<std::string> keys{"tokens", "entropy_nats", "normalised_entropy", "top_decile_tokens",
                                        "top_decile_share", "weight_histogram"};
    std::vector<std::string> seen;
    for (const auto & [key, value] : out.items()) {
        seen.push_back(key);
    }
    EXPECT_EQ(seen, keys);
    EXPECT_EQ(out["tokens"], 4);
    EXPECT_EQ(out["entropy_nats"].get<double>(), stats.entropy);
    ASSERT_EQ(out["weight_histogram"].size(), kHistogramBins);
    EXPECT_EQ(out["weight_histogram"][6]["bin"], ">0.06");
    EXPECT_EQ(out["weight_histogram"][6]["token_fraction"].get<double>(), stats.histogram[6]);
    stats.lesion = LesionStats{0.4, 0.1, true};
    out = grounding::to_json(stats);
    EXPECT_EQ(out["lesion"],
              nlohmann::ordered_json({{"mass_share", 0.4}, {"area_share", 0.1}, {"pointing_game_hit", true}}));
}

TEST(StrategySummary, MeanAndSpreadOfEachStatisticOverTheImagesThatHaveIt) {
    std::vector<AttentionStats> images{grounding::token_statistics({1.0f, 1.0f, 1.0f, 1.0f}),
                                       grounding::token_statistics({1.0f, 0.0f, 0.0f, 0.0f}),
                                       grounding::token_statistics({2.0f, 1.0f, 1.0f, 0.0f})};
    images[0].lesion = LesionStats{0.2, 0.1, false};
    images[2].lesion = LesionStats{0.6, 0.3, true};
    const grounding::StrategySummary summary = grounding::summarise("describe-then-decide", images);
    EXPECT_EQ(summary.images, 3u);
    const auto field = [&](auto get) {
        std::vector<double> values;
        for (const AttentionStats & image : images) {
            values.push_back(get(image));
        }
        return grounding::mean_std(values);
    };
    const grounding::MeanStd entropy = field([](const AttentionStats & s) { return s.entropy; });
    EXPECT_EQ(summary.entropy.mean, entropy.mean);
    EXPECT_EQ(summary.entropy.std, entropy.std);
    EXPECT_EQ(summary.entropy.count, 3u);
    const grounding::MeanStd top_bin = field([](const AttentionStats & s) { return s.histogram[6]; });
    EXPECT_EQ(summary.histogram[6].mean, top_bin.mean);
    EXPECT_EQ(summary.lesion_mass_share.count, 2u);
    EXPECT_NEAR(summary.lesion_mass_share.mean, 0.4, 1e-12);
    EXPECT_NEAR(summary.lesion_mass_share.std, std::sqrt(0.08), 1e-12);
    EXPECT_NEAR(summary.pointing_game.mean, 0.5, 1e-12);

    const json out = grounding::to_json(summary);
    EXPECT_EQ(out["strategy"], "describe-then-decide");
    EXPECT_EQ(out["images"], 3);
    EXPECT_EQ(out["entropy_nats"]["mean"].get<double>(), entropy.mean);
    EXPECT_EQ(out["entropy_nats"]["n"], 3);
    EXPECT_EQ(out["weight_histogram"][0]["bin"], "0-0.01");
    EXPECT_EQ(out["pointing_game_hit_rate"]["n"], 2);
    EXPECT_EQ(grounding::mean_std({}).count, 0u);
    EXPECT_EQ(grounding::mean_std({2.5}).std, 0.0);
}

}  // namespace
