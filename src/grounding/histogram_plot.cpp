#include "grounding/histogram_plot.h"

#include "common/plot_canvas.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dermlens::grounding {
namespace {

static_assert(kMaxPlotSeries == plot::kMaxSeries, "one colour per strategy");

[[noreturn]] void invalid(const std::string & message) {
    throw Error(ErrorKind::InvalidArgument, message);
}

// Where the bars go; the legend sits right of it.
plot::PlotArea plot_area(cv::Size size) {
    return {80, 50, size.width - 230, size.height - 80};
}

void check_series(const std::vector<HistogramSeries> & series, cv::Size size) {
    if (series.empty() || series.size() > kMaxPlotSeries) {
        invalid(fmt::format("histogram plot: {} strategies (1 to {} fit)", series.size(), kMaxPlotSeries));
    }
    for (const HistogramSeries & one : series) {
        for (std::size_t bin = 0; bin < kHistogramBins; ++bin) {
            if (!(one.fractions[bin] >= 0.0 && one.fractions[bin] <= 1.0)) {
                invalid(fmt::format("histogram plot: strategy '{}', bin {}: fraction {} is not within [0, 1]",
                                    one.strategy, histogram_bin_label(bin), one.fractions[bin]));
            }
        }
    }
    if (size.width < kMinPlotWidth || size.height < kMinPlotHeight) {
        invalid(fmt::format("histogram plot: {} x {} is too small (at least {} x {})", size.width, size.height,
                            kMinPlotWidth, kMinPlotHeight));
    }
}

// The y axis's top in percent: the tallest bar rounded up to a multiple of 10, at least 10.
int axis_top_percent(const std::vector<HistogramSeries> & series) {
    double tallest = 0;
    for (const HistogramSeries & one : series) {
        tallest = std::max(tallest, *std::max_element(one.fractions.begin(), one.fractions.end()));
    }
    return std::max(10, static_cast<int>(std::ceil(tallest * 100.0 / 10.0 - 1e-9)) * 10);
}

std::vector<plot::Tick> percent_ticks(int top_percent) {
    const int step = top_percent <= 50 ? 10 : 20;
    std::vector<plot::Tick> ticks;
    for (int percent = 0; percent <= top_percent; percent += step) {
        ticks.push_back({percent / 100.0, fmt::format("{}%", percent)});
    }
    return ticks;
}

}  // namespace

HistogramSeries histogram_series(const StrategySummary & summary) {
    HistogramSeries series{summary.strategy, {}};
    for (std::size_t bin = 0; bin < kHistogramBins; ++bin) {
        series.fractions[bin] = summary.histogram[bin].mean;
    }
    return series;
}

cv::Vec3b series_colour(std::size_t index) {
    if (index >= kMaxPlotSeries) {
        invalid(fmt::format("histogram plot: no colour for strategy {} (at most {})", index + 1, kMaxPlotSeries));
    }
    return plot::series_colour(index);
}

cv::Mat3b histogram_plot(const std::vector<HistogramSeries> & series, cv::Size size) {
    check_series(series, size);
    cv::Mat3b canvas = plot::blank_canvas(size);
    const plot::PlotArea area = plot_area(size);
    const int top_percent = axis_top_percent(series);
    const double top = top_percent / 100.0;
    std::vector<std::string> bins;
    for (std::size_t bin = 0; bin < kHistogramBins; ++bin) {
        bins.push_back(histogram_bin_label(bin));
    }
    std::vector<std::vector<double>> fractions;
    std::vector<std::string> strategies;
    for (const HistogramSeries & one : series) {
        fractions.emplace_back(one.fractions.begin(), one.fractions.end());
        strategies.push_back(one.strategy);
    }
    plot::draw_title(canvas, "Attention weights over the image tokens", (area.left + area.right) / 2);
    plot::draw_y_axis(canvas, area, percent_ticks(top_percent), 0.0, top, "tokens (%)");
    plot::draw_grouped_bars(canvas, area, bins, fractions, top);
    plot::draw_axes(canvas, area);
    plot::put_centred(canvas, "attention weight (normalised over the image tokens)", (area.left + area.right) / 2,
                      area.bottom + 50);
    plot::draw_legend(canvas, {area.right + 20, area.top}, size.width - area.right - 50, strategies);
    return canvas;
}

}  // namespace dermlens::grounding
