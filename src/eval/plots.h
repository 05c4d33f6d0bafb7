// The evaluation report's plots as BGR images (encoded as PNG: cv::imencode): confusion matrix,
// reliability diagram, curves with error bars (the shots curve of paper 000 table 10) and grouped
// bars (per-group accuracy, e.g. per Fitzpatrick skin type). Drawn with OpenCV alone on a white
// background (common/plot_canvas.h), each with a title, axis labels and ticks; the same input
// always gives the same pixels. Every function throws Error(InvalidArgument) for empty,
// mismatched or non-finite input, naming the plot and the reason.
#pragma once

#include "metrics/metrics.h"

#include <Eigen/Core>
#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace dermlens::eval {

// Truth down the rows (y), prediction along the columns (x), as metrics::confusion_matrix() counts them.
// Each cell is shaded from white to dark blue by its share of the row (the recall of the row's
// class on the diagonal) and shows its count; zero cells stay blank so the pattern stands out.
// Column labels are written vertically, and labels too long for the margin end in "...". Cells
// shrink and the image grows with the classes (about 1,000 pixels wide for 40 classes).
cv::Mat3b confusion_matrix_plot(const Eigen::MatrixXi & matrix, const std::vector<std::string> & labels,
                                const std::string & title);

// Accuracy per confidence bin as bars spanning the bin (empty bins drawn as nothing), the diagonal
// of perfect calibration (dashed), and "ECE = ..." in the upper left corner. Bins as metrics::reliability_bins() returns them: within [0, 1], and a non-empty
// bin's accuracy and mean confidence within [0, 1]; `ece` within [0, 1].
cv::Mat3b reliability_diagram(const std::vector<metrics::CalibrationBin> & bins, double ece, const std::string & title);

// One line of a curve plot: a mean per x tick and, when `std` is not empty, ± std error bars.
struct CurveSeries {
    std::string name;
    std::vector<double> mean;
    std::vector<double> std;
};

// The x ticks equally spaced (e.g. shots 1, 2, 4, 8, 16), y from 0 to 1; each series in its own
// colour (plot::series_colour) with round markers, error bars clipped to [0, 1], and a legend.
// Means must lie within [0, 1], standard deviations be finite and >= 0; at most plot::kMaxSeries series.
cv::Mat3b curve_plot(const std::vector<std::string> & x_ticks, const std::vector<CurveSeries> & series,
                     const std::string & y_label, const std::string & title);

struct BarSeries {
    std::string name;
    std::vector<double> values;  // one per group, within [0, 1]
};

// One bar per series in each group, side by side, y from 0 to 1, and a legend; the image widens
// with the groups. At most plot::kMaxSeries series.
cv::Mat3b grouped_bar_plot(const std::vector<std::string> & groups, const std::vector<BarSeries> & series,
                           const std::string & y_label, const std::string & title);

}  // namespace dermlens::eval
