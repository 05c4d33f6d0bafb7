// The report plots (eval/plots.h): sizes, identical pixels for identical input, and what each
// plot must show — shading by row share, bars and points where their values put them, series in
// order — found by comparing renders that differ in one value (so titles and legends cancel out).
#include "eval/plots.h"

#include "common/plot_canvas.h"
#include "support/expect_error.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace {

namespace eval = dermlens::eval;
namespace metrics = dermlens::metrics;
using dermlens::ErrorKind;
using dermlens::test::expect_error;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool identical(const cv::Mat3b & a, const cv::Mat3b & b) {
    return a.size() == b.size() && cv::norm(a, b, cv::NORM_INF) == 0.0;
}

// Where two renders of the same size differ.
struct Change {
    int count = 0;
    double mean_x = 0.0;
    double mean_y = 0.0;
    int top = std::numeric_limits<int>::max();     // the topmost changed row
    int bottom = std::numeric_limits<int>::min();  // the lowest changed row
};

Change change_between(const cv::Mat3b & a, const cv::Mat3b & b) {
    EXPECT_EQ(a.size(), b.size());
    Change change;
    for (int y = 0; y < a.rows; ++y) {
        for (int x = 0; x < a.cols; ++x) {
            if (a(y, x) != b(y, x)) {
                ++change.count;
                change.mean_x += x;
                change.mean_y += y;
                change.top = std::min(change.top, y);
                change.bottom = std::max(change.bottom, y);
            }
        }
    }
    if (change.count > 0) {
        change.mean_x /= change.count;
        change.mean_y /= change.count;
    }
    return change;
}

// --- confusion matrix ---

// The shaded cells: pixels bluer than they are red (white, text and grid lines are grey).
cv::Rect shaded_box(const cv::Mat3b & plot) {
    cv::Mat1b mask(plot.size(), 0);
    for (int y = 0; y < plot.rows; ++y) {
        for (int x = 0; x < plot.cols; ++x) {
            mask(y, x) = plot(y, x)[0] > plot(y, x)[2] + 1 ? 255 : 0;
        }
    }
    return cv::boundingRect(mask);
}

// The most frequent colour in each of n x n equal cells of `box`: the cell's shade (its count's
// text and the grid lines cover less of it).
std::vector<std::vector<cv::Vec3b>> cell_shades(const cv::Mat3b & plot, const cv::Rect & box, int n) {
    std::vector<std::vector<cv::Vec3b>> shades(static_cast<std::size_t>(n));
    for (int row = 0; row < n; ++row) {
        for (int column = 0; column < n; ++column) {
            std::map<std::tuple<int, int, int>, int> seen;
            for (int y = box.y + row * box.height / n; y < box.y + (row + 1) * box.height / n; ++y) {
                for (int x = box.x + column * box.width / n; x < box.x + (column + 1) * box.width / n; ++x) {
                    const cv::Vec3b p = plot(y, x);
                    ++seen[{p[0], p[1], p[2]}];
                }
            }
            const auto mode = std::max_element(seen.begin(), seen.end(),
                                               [](const auto & a, const auto & b) { return a.second < b.second; });
            const auto [blue, green, red] = mode->first;
            shades[static_cast<std::size_t>(row)].emplace_back(blue, green, red);
        }
    }
    return shades;
}

int brightness(const cv::Vec3b & colour) {
    return colour[0] + colour[1] + colour[2];
}

TEST(ConfusionMatrixPlot, CellsDarkenWithTheirShareOfTheRowNotTheirCount) {
    // Row 0 has the largest count (50) but only half its row; row 2's 9 is all but 1 of its row.
    const Eigen::MatrixXi matrix{{50, 40, 10}, {3, 6, 3}, {1, 2, 27}};
    const cv::Mat3b plot = eval::confusion_matrix_plot(matrix, {"melanoma", "nevus", "seborrheic keratosis"}, "Test");
    const cv::Rect box = shaded_box(plot);
    ASSERT_GT(box.width, 100);
    EXPECT_NEAR(box.width, box.height, 2);  // square cells
    const auto shades = cell_shades(plot, box, 3);
    double darkest_share = 0.0;
    std::pair<int, int> darkest{-1, -1};
    int darkest_brightness = std::numeric_limits<int>::max();
    for (int row = 0; row < 3; ++row) {
        for (int column = 0; column < 3; ++column) {
            const double share = matrix(row, column) / static_cast<double>(matrix.row(row).sum());
            const int light = brightness(shades[static_cast<std::size_t>(row)][static_cast<std::size_t>(column)]);
            if (light < darkest_brightness) {
                darkest_brightness = light;
                darkest = {row, column};
                darkest_share = share;
            }
            // Every pair of cells is ordered as their shares are.
            for (int other_row = 0; other_row < 3; ++other_row) {
                for (int other_column = 0; other_column < 3; ++other_column) {
                    const double other_share =
                        matrix(other_row, other_column) / static_cast<double>(matrix.row(other_row).sum());
                    const int other_light = brightness(
                        shades[static_cast<std::size_t>(other_row)][static_cast<std::size_t>(other_column)]);
                    if (share > other_share + 1e-9) {
                        EXPECT_LT(light, other_light) << row << "," << column << " vs " << other_row << "," << other_column;
                    }
                }
            }
        }
    }
    EXPECT_EQ(darkest, std::make_pair(2, 2));
    EXPECT_DOUBLE_EQ(darkest_share, 0.9);
}

TEST(ConfusionMatrixPlot, TruthRunsDownAndPredictionsAcross) {
    // Truth 0 predicted as 2: shaded in the top row's right cell; the bottom row's left cell stays white.
    Eigen::MatrixXi matrix = Eigen::MatrixXi::Identity(3, 3) * 5;
    matrix(0, 2) = 20;
    const cv::Mat3b plot = eval::confusion_matrix_plot(matrix, {"a", "b", "c"}, "t");
    const cv::Rect grid = shaded_box(plot);  // the diagonal's corners span the grid
    const auto shades = cell_shades(plot, grid, 3);
    EXPECT_LT(brightness(shades[0][2]), brightness(shades[0][0]));  // 20 of 25 against 5 of 25
    EXPECT_EQ(shades[2][0], cv::Vec3b(255, 255, 255));
    EXPECT_EQ(shades[1][2], cv::Vec3b(255, 255, 255));
}

TEST(ConfusionMatrixPlot, GrowsWithTheClassesAndCutsLongLabels) {
    const auto plot_of = [](int classes, const std::string & prefix) {
        std::vector<std::string> labels;
        for (int c = 0; c < classes; ++c) {
            labels.push_back(prefix + std::to_string(c));
        }
        Eigen::MatrixXi matrix = Eigen::MatrixXi::Constant(classes, classes, 1) + Eigen::MatrixXi::Identity(classes, classes) * 30;
        return eval::confusion_matrix_plot(matrix, labels, "classes");
    };
    const cv::Mat3b small = plot_of(3, "c");
    const cv::Mat3b large = plot_of(40, "c");
    EXPECT_GT(large.cols, small.cols);
    EXPECT_GT(large.rows, small.rows);
    EXPECT_GE(shaded_box(large).width / 40, 20);  // cells stay big enough for a count
    // Very long names are cut to a bounded margin.
    const cv::Mat3b long_names = plot_of(40, "a very long diagnosis name that would take the whole page ");
    EXPECT_LT(long_names.cols, 1400);
    EXPECT_LT(long_names.rows, 1400);
    EXPECT_TRUE(identical(long_names, plot_of(40, "a very long diagnosis name that would take the whole page ")));
}

TEST(ConfusionMatrixPlot, RefusesWhatItCannotDraw) {
    expect_error([] { eval::confusion_matrix_plot(Eigen::MatrixXi(2, 3), {"a", "b"}, "t"); },
                 ErrorKind::InvalidArgument, {"2 x 3", "square"});
    expect_error([] { eval::confusion_matrix_plot(Eigen::MatrixXi(0, 0), {}, "t"); }, ErrorKind::InvalidArgument,
                 {"0 x 0"});
    expect_error([] { eval::confusion_matrix_plot(Eigen::MatrixXi::Zero(2, 2), {"a"}, "t"); },
                 ErrorKind::InvalidArgument, {"1 labels for 2 classes"});
    expect_error([] { eval::confusion_matrix_plot(Eigen::MatrixXi::Constant(2, 2, -1), {"a", "b"}, "t"); },
                 ErrorKind::InvalidArgument, {"negative count"});
}

// --- reliability diagram ---

std::vector<metrics::CalibrationBin> ten_bins() {
    std::vector<metrics::CalibrationBin> bins(10);
    for (std::size_t b = 0; b < bins.size(); ++b) {
        bins[b] = {b / 10.0, (b + 1) / 10.0, 0, kNaN, kNaN};
    }
    return bins;
}

// The change made by filling bin `b` with accuracy `accuracy`, against all bins empty.
Change reliability_bar(std::size_t b, double accuracy) {
    auto bins = ten_bins();
    const cv::Mat3b empty = eval::reliability_diagram(bins, 0.1, "calibration");
    bins[b] = {b / 10.0, (b + 1) / 10.0, 20, (b + 0.5) / 10.0, accuracy};
    return change_between(empty, eval::reliability_diagram(bins, 0.1, "calibration"));
}

TEST(ReliabilityDiagram, BarsRiseWithAccuracyInTheirBinsColumn) {
    const cv::Mat3b plot = eval::reliability_diagram(ten_bins(), 0.1, "calibration");
    EXPECT_EQ(plot.size(), cv::Size(620, 600));
    const Change high = reliability_bar(3, 0.9);
    const Change low = reliability_bar(3, 0.3);
    ASSERT_GT(low.count, 0);
    EXPECT_LT(high.top + 100, low.top);                 // a taller bar reaches higher ...
    EXPECT_NEAR(high.bottom, low.bottom, 1);            // ... from the same baseline
    EXPECT_NEAR(high.mean_x, low.mean_x, 2);            // in the same column
    EXPECT_NEAR(high.count, 3.0 * low.count, 0.1 * high.count);  // area in proportion (rounded edges aside)
    EXPECT_LT(reliability_bar(1, 0.5).mean_x + 100, reliability_bar(7, 0.5).mean_x);  // bins left to right
}

TEST(ReliabilityDiagram, ShowsTheEceAndIsDeterministic) {
    auto bins = ten_bins();
    bins[8] = {0.8, 0.9, 50, 0.85, 0.7};
    const cv::Mat3b plot = eval::reliability_diagram(bins, 0.15, "calibration");
    EXPECT_TRUE(identical(plot, eval::reliability_diagram(bins, 0.15, "calibration")));
    const Change ece = change_between(plot, eval::reliability_diagram(bins, 0.0125, "calibration"));
    ASSERT_GT(ece.count, 0);  // the ECE is written, in the upper left
    EXPECT_LT(ece.mean_x, plot.cols / 3.0);
    EXPECT_LT(ece.mean_y, plot.rows / 3.0);
}

TEST(ReliabilityDiagram, AcceptsReliabilityBinsOutputAndRefusesInvalidBins) {
    const std::vector<double> confidence{0.95, 0.9, 0.6, 0.3};
    const std::vector<bool> correct{true, true, false, true};
    const auto bins = metrics::reliability_bins(confidence, correct, 15);  // empty bins hold NaN
    EXPECT_EQ(eval::reliability_diagram(bins, metrics::expected_calibration_error(bins), "ok").cols, 620);
    expect_error([] { eval::reliability_diagram({}, 0.1, "t"); }, ErrorKind::InvalidArgument, {"no bins"});
    auto bad = ten_bins();
    bad[2] = {0.2, 0.3, 4, 0.25, kNaN};
    expect_error([&] { eval::reliability_diagram(bad, 0.1, "t"); }, ErrorKind::InvalidArgument, {"bin 2", "accuracy nan"});
    bad[2] = {0.3, 0.2, 0, kNaN, kNaN};
    expect_error([&] { eval::reliability_diagram(bad, 0.1, "t"); }, ErrorKind::InvalidArgument, {"bin 2 spans"});
    expect_error([] { eval::reliability_diagram(ten_bins(), kNaN, "t"); }, ErrorKind::InvalidArgument, {"ECE nan"});
    expect_error([] { eval::reliability_diagram(ten_bins(), 1.5, "t"); }, ErrorKind::InvalidArgument, {"ECE 1.5"});
}

// --- curves ---

const std::vector<std::string> kShots{"1", "2", "4", "8", "16"};

cv::Mat3b shots_plot(const std::vector<eval::CurveSeries> & series) {
    return eval::curve_plot(kShots, series, "accuracy", "Accuracy by shots per class");
}

// The change made by raising point `i` of a flat curve at 0.3 to `value`.
Change raised_point(std::size_t i, double value) {
    eval::CurveSeries flat{"probe", std::vector<double>(kShots.size(), 0.3), {}};
    const cv::Mat3b before = shots_plot({flat});
    flat.mean[i] = value;
    return change_between(before, shots_plot({flat}));
}

TEST(CurvePlot, PointsLieLeftToRightAtTheirHeights) {
    double previous_x = 0.0;
    for (std::size_t i = 0; i < kShots.size(); ++i) {
        const Change change = raised_point(i, 0.8);
        ASSERT_GT(change.count, 0) << i;
        EXPECT_GT(change.mean_x, previous_x + 50) << "point " << i << " right of point " << i - 1;
        previous_x = change.mean_x;
    }
    // Higher values reach higher, linearly: 0.8 is as far above 0.6 as 0.6 is above 0.4.
    const int step_low = raised_point(2, 0.4).top - raised_point(2, 0.6).top;
    const int step_high = raised_point(2, 0.6).top - raised_point(2, 0.8).top;
    EXPECT_GT(step_low, 60);
    EXPECT_NEAR(step_low, step_high, 1);
}

TEST(CurvePlot, ErrorBarsSpanTwoStandardDeviations) {
    const eval::CurveSeries without{"probe", {0.2, 0.4, 0.5, 0.6, 0.7}, {}};
    eval::CurveSeries with = without;
    with.std = {0.0, 0.0, 0.1, 0.0, 0.0};
    const Change bar = change_between(shots_plot({without}), shots_plot({with}));
    ASSERT_GT(bar.count, 0);
    // From 0.4 to 0.6: as far as a point moves from 0.4 to 0.6.
    EXPECT_NEAR(bar.bottom - bar.top, raised_point(2, 0.4).top - raised_point(2, 0.6).top, 2);
    EXPECT_NEAR(bar.mean_x, raised_point(2, 0.9).mean_x, 3);
}

TEST(CurvePlot, EachSeriesHasItsColourAndTheSameInputTheSamePixels) {
    const std::vector<eval::CurveSeries> series{{"top-1", {0.2, 0.3, 0.4, 0.5, 0.6}, {0.01, 0.02, 0.03, 0.02, 0.01}},
                                                {"top-5", {0.5, 0.6, 0.7, 0.8, 0.9}, {0.05, 0.04, 0.03, 0.02, 0.01}}};
    const cv::Mat3b plot = shots_plot(series);
    EXPECT_EQ(plot.size(), cv::Size(900, 540));
    EXPECT_TRUE(identical(plot, shots_plot(series)));
    std::vector<double> mean_y;
    for (std::size_t s = 0; s < series.size(); ++s) {
        int pixels = 0;
        double sum_y = 0.0;
        for (int y = 0; y < plot.rows; ++y) {
            for (int x = 0; x < plot.cols - 230; ++x) {  // left of the legend
                if (plot(y, x) == dermlens::plot::series_colour(s)) {
                    ++pixels;
                    sum_y += y;
                }
            }
        }
        ASSERT_GT(pixels, 200) << s;
        mean_y.push_back(sum_y / pixels);
    }
    EXPECT_LT(mean_y[1] + 80, mean_y[0]) << "top-5 lies above top-1";
}

TEST(CurvePlot, RefusesWhatItCannotDraw) {
    expect_error([] { eval::curve_plot({}, {{"a", {}, {}}}, "y", "t"); }, ErrorKind::InvalidArgument, {"no x ticks"});
    expect_error([] { shots_plot({}); }, ErrorKind::InvalidArgument, {"0 series"});
    expect_error([] { shots_plot(std::vector<eval::CurveSeries>(9, {"s", std::vector<double>(5, 0.5), {}})); },
                 ErrorKind::InvalidArgument, {"9 series"});
    expect_error([] { shots_plot({{"short", {0.1, 0.2}, {}}}); }, ErrorKind::InvalidArgument,
                 {"'short'", "2 means", "5 x ticks"});
    expect_error([] { shots_plot({{"std", {0.1, 0.2, 0.3, 0.4, 0.5}, {0.1}}}); }, ErrorKind::InvalidArgument,
                 {"'std'", "1 standard deviations"});
    expect_error([] { shots_plot({{"nan", {0.1, kNaN, 0.3, 0.4, 0.5}, {}}}); }, ErrorKind::InvalidArgument,
                 {"'nan'", "tick '2'", "mean nan"});
    expect_error([] { shots_plot({{"big", {0.1, 0.2, 1.3, 0.4, 0.5}, {}}}); }, ErrorKind::InvalidArgument,
                 {"mean 1.3", "[0, 1]"});
    expect_error([] { shots_plot({{"neg", {0.1, 0.2, 0.3, 0.4, 0.5}, {0, 0, 0, -0.1, 0}}}); },
                 ErrorKind::InvalidArgument, {"'neg'", "tick '8'", "-0.1"});
    expect_error(
        [] { shots_plot({{"inf", {0.1, 0.2, 0.3, 0.4, 0.5}, {0, 0, 0, std::numeric_limits<double>::infinity(), 0}}}); },
        ErrorKind::InvalidArgument, {"'inf'", "inf"});
}

// --- grouped bars ---

const std::vector<std::string> kSkinTypes{"I", "II", "III", "IV", "V", "VI"};

cv::Mat3b skin_type_plot(const std::vector<eval::BarSeries> & series) {
    return eval::grouped_bar_plot(kSkinTypes, series, "accuracy", "Accuracy by Fitzpatrick skin type");
}

// The change made by setting the bar of series `s` in group `g` to `value` (every other bar 0.2).
Change raised_bar(std::size_t s, std::size_t g, double value) {
    std::vector<eval::BarSeries> series{{"direct", std::vector<double>(6, 0.2)}, {"combined", std::vector<double>(6, 0.2)}};
    const cv::Mat3b before = skin_type_plot(series);
    series[s].values[g] = value;
    return change_between(before, skin_type_plot(series));
}

TEST(GroupedBarPlot, TallerBarsReachHigherInTheirGroupsPlace) {
    const Change tall = raised_bar(0, 2, 0.9);
    const Change short_bar = raised_bar(0, 2, 0.5);
    ASSERT_GT(short_bar.count, 0);
    EXPECT_LT(tall.top + 100, short_bar.top);
    EXPECT_NEAR(tall.mean_x, short_bar.mean_x, 1);
    // Groups left to right, and within a group the series in order.
    EXPECT_LT(raised_bar(0, 1, 0.9).mean_x + 40, raised_bar(0, 4, 0.9).mean_x);
    EXPECT_LT(raised_bar(0, 3, 0.9).mean_x, raised_bar(1, 3, 0.9).mean_x);
    EXPECT_LT(raised_bar(1, 3, 0.9).mean_x, raised_bar(0, 4, 0.9).mean_x);
}

TEST(GroupedBarPlot, BarsAreInTheirSeriesColoursAndTheImageWidensWithGroups) {
    const std::vector<eval::BarSeries> series{{"direct", {0.9, 0.8, 0.7, 0.6, 0.5, 0.4}},
                                              {"combined", {0.4, 0.5, 0.6, 0.7, 0.8, 0.9}}};
    const cv::Mat3b plot = skin_type_plot(series);
    EXPECT_EQ(plot.rows, 480);
    EXPECT_TRUE(identical(plot, skin_type_plot(series)));
    // The first series's bar in group 0 is its tallest: the colour's topmost pixel (left of the legend) is in group 0.
    const cv::Vec3b first = dermlens::plot::series_colour(0);
    cv::Point topmost(-1, plot.rows);
    for (int y = 0; y < plot.rows && topmost.x < 0; ++y) {
        for (int x = 0; x < plot.cols - 230; ++x) {
            if (plot(y, x) == first) {
                topmost = {x, y};
                break;
            }
        }
    }
    EXPECT_LT(topmost.x, raised_bar(0, 1, 0.9).mean_x);
    std::vector<std::string> many(20, "group");
    std::vector<eval::BarSeries> wide{{"a", std::vector<double>(20, 0.5)}};
    EXPECT_GT(eval::grouped_bar_plot(many, wide, "y", "t").cols, plot.cols);
}

TEST(GroupedBarPlot, RefusesWhatItCannotDraw) {
    expect_error([] { eval::grouped_bar_plot({}, {{"a", {}}}, "y", "t"); }, ErrorKind::InvalidArgument, {"no groups"});
    expect_error([] { skin_type_plot({}); }, ErrorKind::InvalidArgument, {"0 series"});
    expect_error([] { skin_type_plot({{"few", {0.1, 0.2}}}); }, ErrorKind::InvalidArgument,
                 {"'few'", "2 values for 6 groups"});
    expect_error([] { skin_type_plot({{"nan", {0.1, 0.2, 0.3, kNaN, 0.5, 0.6}}}); }, ErrorKind::InvalidArgument,
                 {"'nan'", "group 'IV'", "value nan"});
    expect_error([] { skin_type_plot({{"neg", {0.1, 0.2, 0.3, 0.4, -0.5, 0.6}}}); }, ErrorKind::InvalidArgument,
                 {"group 'V'", "-0.5"});
}

}  // namespace
