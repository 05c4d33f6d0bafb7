#include "grounding/attention_stats.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

namespace dermlens::grounding {
namespace {

using nlohmann::ordered_json;

[[noreturn]] void invalid(const std::string & message) {
    throw Error(ErrorKind::InvalidArgument, message);
}

// The weights as probabilities (double), after checking they can be.
std::vector<double> normalised_weights(const std::vector<float> & weights) {
    if (weights.empty()) {
        invalid("attention statistics: no token weights");
    }
    double total = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        if (!std::isfinite(weights[i]) || weights[i] < 0) {
            invalid(fmt::format("attention statistics: token {} has weight {} (weights must be finite and not negative)",
                                i, weights[i]));
        }
        total += weights[i];
    }
    if (total <= 0) {
        invalid(fmt::format("attention statistics: the {} token weights sum to 0", weights.size()));
    }
    std::vector<double> p(weights.size());
    std::transform(weights.begin(), weights.end(), p.begin(), [total](float w) { return w / total; });
    return p;
}

double entropy_nats(const std::vector<double> & p) {
    double entropy = 0;
    for (const double value : p) {
        if (value > 0) {
            entropy -= value * std::log(value);
        }
    }
    return entropy;
}

// The last bin whose lower edge is at or below p (p >= 0).
std::size_t histogram_bin(double p) {
    const auto above = std::upper_bound(kHistogramLowerEdges.begin(), kHistogramLowerEdges.end(), p);
    return static_cast<std::size_t>(above - kHistogramLowerEdges.begin() - 1);
}

bool is_lesion(unsigned char mask_value) {
    return mask_value >= 128;
}

ordered_json mean_std_json(const MeanStd & value) {
    return {{"mean", value.mean}, {"std", value.std}, {"n", value.count}};
}

// `field` of every image that has it.
MeanStd summarise_field(const std::vector<AttentionStats> & images,
                        const std::function<std::optional<double>(const AttentionStats &)> & field) {
    std::vector<double> values;
    for (const AttentionStats & image : images) {
        if (const auto value = field(image)) {
            values.push_back(*value);
        }
    }
    return mean_std(values);
}

}  // namespace

std::string histogram_bin_label(std::size_t bin) {
    if (bin >= kHistogramBins) {
        invalid(fmt::format("attention histogram bin {} does not exist (0..{})", bin, kHistogramBins - 1));
    }
    if (bin + 1 == kHistogramBins) {
        return fmt::format(">{:g}", kHistogramLowerEdges[bin]);
    }
    return fmt::format("{:g}-{:g}", kHistogramLowerEdges[bin], kHistogramLowerEdges[bin + 1]);
}

AttentionStats token_statistics(const std::vector<float> & weights) {
    std::vector<double> p = normalised_weights(weights);
    AttentionStats stats;
    stats.tokens = p.size();
    stats.entropy = entropy_nats(p);
    stats.normalised_entropy = p.size() > 1 ? stats.entropy / std::log(static_cast<double>(p.size())) : 0.0;
    for (const double value : p) {
        stats.histogram[histogram_bin(value)] += 1.0 / static_cast<double>(p.size());
    }
    stats.top_decile_tokens = (p.size() + 9) / 10;
    const auto top_end = p.begin() + static_cast<std::ptrdiff_t>(stats.top_decile_tokens);
    std::partial_sort(p.begin(), top_end, p.end(), std::greater<>());
    stats.top_decile_share = std::accumulate(p.begin(), top_end, 0.0);
    return stats;
}

LesionStats lesion_statistics(const cv::Mat1f & map, const cv::Mat1b & lesion_mask) {
    if (map.empty() || map.size() != lesion_mask.size()) {
        invalid(fmt::format("lesion statistics: the map is {} x {}, the lesion mask {} x {}", map.cols, map.rows,
                            lesion_mask.cols, lesion_mask.rows));
    }
    double total = 0;
    double inside = 0;
    std::size_t lesion_pixels = 0;
    float peak = -1;
    bool peak_in_lesion = false;
    for (int y = 0; y < map.rows; ++y) {
        for (int x = 0; x < map.cols; ++x) {
            const float value = map(y, x);
            if (!std::isfinite(value) || value < 0) {
                invalid(fmt::format("lesion statistics: map value {} at ({}, {}) (values must be finite and not negative)",
                                    value, x, y));
            }
            const bool lesion = is_lesion(lesion_mask(y, x));
            total += value;
            inside += lesion ? value : 0.0;
            lesion_pixels += lesion ? 1 : 0;
            if (value > peak) {  // strictly greater: the first peak in row-major order stays
                peak = value;
                peak_in_lesion = lesion;
            }
        }
    }
    if (total <= 0) {
        invalid("lesion statistics: the map is all zero");
    }
    if (lesion_pixels == 0) {
        invalid("lesion statistics: the lesion mask has no lesion pixels (values of 128 and above)");
    }
    return {inside / total, static_cast<double>(lesion_pixels) / static_cast<double>(map.total()), peak_in_lesion};
}

ordered_json to_json(const AttentionStats & stats) {
    ordered_json histogram = ordered_json::array();
    for (std::size_t bin = 0; bin < kHistogramBins; ++bin) {
        histogram.push_back({{"bin", histogram_bin_label(bin)}, {"token_fraction", stats.histogram[bin]}});
    }
    ordered_json out = {{"tokens", stats.tokens},
                        {"entropy_nats", stats.entropy},
                        {"normalised_entropy", stats.normalised_entropy},
                        {"top_decile_tokens", stats.top_decile_tokens},
                        {"top_decile_share", stats.top_decile_share},
                        {"weight_histogram", histogram}};
    if (stats.lesion) {
        out["lesion"] = {{"mass_share", stats.lesion->mass_share},
                         {"area_share", stats.lesion->area_share},
                         {"pointing_game_hit", stats.lesion->pointing_hit}};
    }
    return out;
}

MeanStd mean_std(const std::vector<double> & values) {
    MeanStd out;
    out.count = values.size();
    if (values.empty()) {
        return out;
    }
    const auto n = static_cast<double>(values.size());
    out.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
    if (values.size() > 1) {
        double squares = 0;
        for (const double value : values) {
            squares += (value - out.mean) * (value - out.mean);
        }
        out.std = std::sqrt(squares / (n - 1));
    }
    return out;
}

StrategySummary summarise(const std::string & strategy, const std::vector<AttentionStats> & images) {
    StrategySummary summary;
    summary.strategy = strategy;
    summary.images = images.size();
    summary.entropy = summarise_field(images, [](const AttentionStats & s) { return s.entropy; });
    summary.normalised_entropy = summarise_field(images, [](const AttentionStats & s) { return s.normalised_entropy; });
    summary.top_decile_share = summarise_field(images, [](const AttentionStats & s) { return s.top_decile_share; });
    for (std::size_t bin = 0; bin < kHistogramBins; ++bin) {
        summary.histogram[bin] = summarise_field(images, [bin](const AttentionStats & s) { return s.histogram[bin]; });
    }
    summary.lesion_mass_share = summarise_field(images, [](const AttentionStats & s) {
        return s.lesion ? std::optional(s.lesion->mass_share) : std::nullopt;
    });
    summary.lesion_area_share = summarise_field(images, [](const AttentionStats & s) {
        return s.lesion ? std::optional(s.lesion->area_share) : std::nullopt;
    });
    summary.pointing_game = summarise_field(images, [](const AttentionStats & s) {
        return s.lesion ? std::optional(s.lesion->pointing_hit ? 1.0 : 0.0) : std::nullopt;
    });
    return summary;
}

ordered_json to_json(const StrategySummary & summary) {
    ordered_json histogram = ordered_json::array();
    for (std::size_t bin = 0; bin < kHistogramBins; ++bin) {
        const MeanStd & fraction = summary.histogram[bin];
        histogram.push_back({{"bin", histogram_bin_label(bin)},
                             {"mean", fraction.mean},
                             {"std", fraction.std},
                             {"n", fraction.count}});
    }
    return {{"strategy", summary.strategy},
            {"images", summary.images},
            {"entropy_nats", mean_std_json(summary.entropy)},
            {"normalised_entropy", mean_std_json(summary.normalised_entropy)},
            {"top_decile_share", mean_std_json(summary.top_decile_share)},
            {"weight_histogram", histogram},
            {"lesion_mass_share", mean_std_json(summary.lesion_mass_share)},
            {"lesion_area_share", mean_std_json(summary.lesion_area_share)},
            {"pointing_game_hit_rate", mean_std_json(summary.pointing_game)}};
}

}  // namespace dermlens::grounding
