// How concentrated an attention vector over the image tokens is, and how much of it falls on
// the lesion: the numbers behind paper 000's heat-map comparison (fig. 5) and paper 003's
// attention-weight histograms (fig. 5-6).
//
// Of the weights normalised to sum 1 (p_i = w_i / sum w, n tokens):
//   entropy              -sum p_i ln p_i, in nats; normalised: / ln n (1: uniform; 0: all mass
//                        on one token, and when n = 1)
//   top-decile share     the mass of the ceil(n / 10) largest weights (uniform: ceil(n/10) / n)
//   histogram            the fraction of tokens whose p_i falls in each of paper 003's bins
//                        [0, .01), [.01, .02), ..., [.05, .06), [.06, inf) (its figures show x 100)
// Of the heat map on the image (grounding/heatmap.h) against a lesion mask:
//   lesion mass share    the map's mass inside the lesion over its mass on the whole image
//   lesion area share    the lesion's share of the pixels: what a uniform map would score
//   pointing game        whether the map's peak pixel (the first in row-major order) is lesion
// Over a dataset, each statistic's mean and sample standard deviation per prompting strategy.
#pragma once

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::grounding {

inline constexpr std::size_t kHistogramBins = 7;
// Each bin's lower edge; a bin ends where the next begins, the last is open above.
inline constexpr std::array<double, kHistogramBins> kHistogramLowerEdges{0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06};
std::string histogram_bin_label(std::size_t bin);  // "0-0.01", ..., "0.05-0.06", ">0.06"

struct LesionStats {
    double mass_share = 0;
    double area_share = 0;
    bool pointing_hit = false;
};

struct AttentionStats {
    std::size_t tokens = 0;
    double entropy = 0;  // nats
    double normalised_entropy = 0;
    std::size_t top_decile_tokens = 0;  // ceil(tokens / 10)
    double top_decile_share = 0;
    std::array<double, kHistogramBins> histogram{};  // fractions of the tokens, summing to 1
    std::optional<LesionStats> lesion;               // when the image has a lesion mask
};

// The token statistics of `weights` (one per image token). Throws Error(InvalidArgument) when
// there are none, one is negative or not finite, or they sum to 0.
AttentionStats token_statistics(const std::vector<float> & weights);

// `map` (non-negative, e.g. upsample_to_image of the weights) against `lesion_mask` of the same
// size: 255 is lesion, 0 is not (pixels of 128 and above count as lesion, so a resized mask
// keeps its outline). Throws Error(InvalidArgument) for sizes that differ, an empty or all-zero
// map, negative or non-finite map values, or a mask without lesion pixels.
LesionStats lesion_statistics(const cv::Mat1f & map, const cv::Mat1b & lesion_mask);

nlohmann::ordered_json to_json(const AttentionStats & stats);

struct MeanStd {
    double mean = 0;
    double std = 0;         // sample standard deviation (n - 1); 0 for a single value
    std::size_t count = 0;  // values summarised; 0: none (mean and std 0)
};
MeanStd mean_std(const std::vector<double> & values);

// One prompting strategy's statistics over a dataset's images.
struct StrategySummary {
    std::string strategy;
    std::size_t images = 0;
    MeanStd entropy;
    MeanStd normalised_entropy;
    MeanStd top_decile_share;
    std::array<MeanStd, kHistogramBins> histogram;
    // Over the images that have a lesion mask; the pointing game's mean is its hit rate.
    MeanStd lesion_mass_share;
    MeanStd lesion_area_share;
    MeanStd pointing_game;
};

// No images: every MeanStd has count 0.
StrategySummary summarise(const std::string & strategy, const std::vector<AttentionStats> & images);
nlohmann::ordered_json to_json(const StrategySummary & summary);

}  // namespace dermlens::grounding
