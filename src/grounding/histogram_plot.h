// Paper 003's fig. 6 for dermlens's prompting strategies: each strategy's attention-weight
// histogram (grounding/attention_stats.h; per bin, the mean over a dataset's images of the
// fraction of tokens in it) as grouped bars: the bins along x, one bar per strategy in its
// own colour, the percentage of tokens up y ("scaled by 100"), a legend on the right.
// Drawn with OpenCV alone, so reports need no plotting library.
#pragma once

#include "grounding/attention_stats.h"

#include <opencv2/core.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace dermlens::grounding {

struct HistogramSeries {
    std::string strategy;
    std::array<double, kHistogramBins> fractions{};  // of the tokens, each within [0, 1]
};

// The summary's per-bin means.
HistogramSeries histogram_series(const StrategySummary & summary);

inline constexpr std::size_t kMaxPlotSeries = 8;
// The bar and legend colour of the index-th series (BGR; common/plot_canvas.h's palette). Throws
// Error(InvalidArgument) from kMaxPlotSeries on: beyond it colours would repeat and the legend
// could not tell bars apart.
cv::Vec3b series_colour(std::size_t index);

inline constexpr int kMinPlotWidth = 640;
inline constexpr int kMinPlotHeight = 360;
// The plot as a BGR image of `size` (for cv::imencode or write_heatmap_png with Bgr), white
// background, y axis from 0 to the tallest bar rounded up to a multiple of 10 %. Throws
// Error(InvalidArgument) for no series or more than kMaxPlotSeries, a fraction outside [0, 1]
// or not finite, or a size below kMinPlotWidth x kMinPlotHeight.
cv::Mat3b histogram_plot(const std::vector<HistogramSeries> & series, cv::Size size = {960, 540});

}  // namespace dermlens::grounding
