// The attention-weight histogram plot (grounding/histogram_plot.h): its size and PNG, each
// strategy's bars in its own colour, bar areas in proportion to the fractions, bins left to right.
#include "grounding/histogram_plot.h"

#include "grounding/heatmap.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <limits>
#include <string>
#include <vector>

namespace {

namespace grounding = dermlens::grounding;
using dermlens::ErrorKind;
using dermlens::test::expect_error;
using grounding::HistogramSeries;

struct ColourPixels {
    int count = 0;
    double mean_x = 0;
};

ColourPixels pixels_of(const cv::Mat3b & plot, const cv::Vec3b & colour) {
    ColourPixels found;
    double sum_x = 0;
    for (int y = 0; y < plot.rows; ++y) {
        for (int x = 0; x < plot.cols; ++x) {
            if (plot(y, x) == colour) {
                ++found.count;
                sum_x += x;
            }
        }
    }
    found.mean_x = found.count > 0 ? sum_x / found.count : 0.0;
    return found;
}

// Three strategies; the third's tall bar fixes the y axis at 60 % whatever the first does.
std::vector<HistogramSeries> three_strategies(double scale_of_first) {
    const double k = scale_of_first;
    return {{"direct", {0.10 * k, 0.05 * k, 0.20 * k, 0, 0, 0.10 * k, 0.05 * k}},
            {"describe-then-decide", {0.02, 0.03, 0.05, 0.10, 0.10, 0.10, 0.10}},
            {"re-rank", {0, 0, 0, 0.55, 0, 0, 0}}};
}

TEST(HistogramPlot, HasTheRequestedSizeAndEachStrategysColourAndWritesAsPng) {
    const cv::Mat3b plot = grounding::histogram_plot(three_strategies(1.0), {900, 500});
    ASSERT_EQ(plot.cols, 900);
    ASSERT_EQ(plot.rows, 500);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_GT(pixels_of(plot, grounding::series_colour(i)).count, 1000) << "strategy " << i;
    }
    EXPECT_GT(pixels_of(plot, cv::Vec3b(255, 255, 255)).count, static_cast<int>(plot.total() / 2));  // white background
    const dermlens::test::TempDir dir("histogram_plot");
    grounding::write_heatmap_png(dir / "plot.png", plot, grounding::ChannelOrder::Bgr);
    const cv::Mat read_back = cv::imread((dir / "plot.png").string());
    EXPECT_EQ(read_back.size(), plot.size());
    EXPECT_EQ(cv::norm(read_back, plot, cv::NORM_INF), 0.0);
}

TEST(HistogramPlot, BarAreaGrowsInProportionToTheFractions) {
    const cv::Vec3b first = grounding::series_colour(0);
    const int zero = pixels_of(grounding::histogram_plot(three_strategies(0.0)), first).count;  // the legend swatch
    const int single = pixels_of(grounding::histogram_plot(three_strategies(1.0)), first).count - zero;
    const int doubled = pixels_of(grounding::histogram_plot(three_strategies(2.0)), first).count - zero;
    ASSERT_GT(single, 0);
    EXPECT_NEAR(doubled, 2.0 * single, 0.03 * single);
    // The other strategies' bars stay as they were.
    const cv::Vec3b second = grounding::series_colour(1);
    EXPECT_EQ(pixels_of(grounding::histogram_plot(three_strategies(1.0)), second).count,
              pixels_of(grounding::histogram_plot(three_strategies(2.0)), second).count);
}

TEST(HistogramPlot, BinsRunLeftToRight) {
    const std::vector<HistogramSeries> series{{"low", {1, 0, 0, 0, 0, 0, 0}}, {"high", {0, 0, 0, 0, 0, 0, 1}}};
    const cv::Mat3b plot = grounding::histogram_plot(series);
    const double low_x = pixels_of(plot, grounding::series_colour(0)).mean_x;
    const double high_x = pixels_of(plot, grounding::series_colour(1)).mean_x;
    EXPECT_LT(low_x + 300, high_x);
}

TEST(HistogramPlot, RefusesWhatItCannotDraw) {
    expect_error([] { grounding::histogram_plot({}); }, ErrorKind::InvalidArgument, {"0 strategies"});
    expect_error([] { grounding::histogram_plot(std::vector<HistogramSeries>(9)); }, ErrorKind::InvalidArgument,
                 {"9 strategies"});
    expect_error([] { grounding::histogram_plot({{"odd", {0, 1.5, 0, 0, 0, 0, 0}}}); }, ErrorKind::InvalidArgument,
                 {"'odd'", "0.01-0.02", "1.5"});
    expect_error([] { grounding::histogram_plot({{"nan", {std::numeric_limits<double>::quiet_NaN(), 0, 0, 0, 0, 0, 0}}}); },
                 ErrorKind::InvalidArgument, {"'nan'"});
    expect_error([] { grounding::histogram_plot({{"small", {}}}, {320, 200}); }, ErrorKind::InvalidArgument,
                 {"320 x 200", "too small"});
    expect_error([] { grounding::series_colour(grounding::kMaxPlotSeries); }, ErrorKind::InvalidArgument, {"strategy 9"});
}

TEST(HistogramPlot, SeriesOfASummaryAreItsBinMeans) {
    const std::vector<grounding::AttentionStats> images{grounding::token_statistics({1.0f, 1.0f}),
                                                        grounding::token_statistics({1.0f, 0.0f, 0.0f, 0.0f})};
    const HistogramSeries series = grounding::histogram_series(grounding::summarise("direct", images));
    EXPECT_EQ(series.strategy, "direct");
    EXPECT_DOUBLE_EQ(series.fractions[0], 0.75 / 2);  // 0 of the first's tokens, 3 of 4 of the second's
    EXPECT_DOUBLE_EQ(series.fractions[6], (1.0 + 0.25) / 2);
}

}  // namespace
