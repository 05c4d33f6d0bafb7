#include "eval/plots.h"

#include "common/plot_canvas.h"
#include "dermlens/error.h"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace dermlens::eval {
namespace {

[[noreturn]] void invalid(const std::string & message) {
    throw Error(ErrorKind::InvalidArgument, message);
}

bool is_fraction(double value) {
    return value >= 0.0 && value <= 1.0;  // false for NaN
}

// The darkest shade of a confusion cell (the whole row in one cell), BGR.
const cv::Vec3b kDarkestCell(107, 48, 8);
// The diagonal the reliability bars are compared with.
const cv::Scalar kDiagonal(120, 120, 120);
// Labels longer than this (in pixels) are cut, so 40 long class names still leave room for the cells.
constexpr int kMaxLabelWidth = 170;
constexpr std::size_t kReliabilityBarSeries = 4;  // blue

// Curves and bars: the legend on the right, in `kLegendMargin` pixels; below, the x ticks' labels.
constexpr int kLegendMargin = 230;
plot::PlotArea legend_plot_area(cv::Size size) {
    return {80, 50, size.width - kLegendMargin, size.height - 45};
}

// The title over the area, the legend right of it.
void draw_title_and_legend(cv::Mat3b & canvas, const plot::PlotArea & area, const std::string & title,
                           const std::vector<std::string> & names) {
    plot::draw_title(canvas, title, (area.left + area.right) / 2);
    plot::draw_legend(canvas, {area.right + 20, area.top}, canvas.cols - area.right - 50, names);
}

// --- confusion matrix ---

void check_confusion(const Eigen::MatrixXi & matrix, const std::vector<std::string> & labels) {
    if (matrix.rows() == 0 || matrix.rows() != matrix.cols()) {
        invalid(fmt::format("confusion matrix plot: a {} x {} matrix (it must be square, with at least one class)",
                            matrix.rows(), matrix.cols()));
    }
    if (labels.size() != static_cast<std::size_t>(matrix.rows())) {
        invalid(fmt::format("confusion matrix plot: {} labels for {} classes", labels.size(), matrix.rows()));
    }
    if (matrix.minCoeff() < 0) {
        invalid(fmt::format("confusion matrix plot: a negative count ({})", matrix.minCoeff()));
    }
}

// White at share 0, kDarkestCell at share 1.
cv::Scalar cell_shade(double share) {
    cv::Scalar shade;
    for (int channel = 0; channel < 3; ++channel) {
        shade[channel] = std::lround(255.0 + (kDarkestCell[channel] - 255.0) * share);
    }
    return shade;
}

// The largest text scale at which every count fits a cell, down to 0.3.
double count_scale(const Eigen::MatrixXi & matrix, int cell) {
    const std::string widest = std::to_string(matrix.maxCoeff());
    for (const double scale : {0.5, 0.42, 0.35}) {
        if (plot::text_size(widest, scale).width <= cell - 4) {
            return scale;
        }
    }
    return 0.3;
}

struct ConfusionLayout {
    int cell = 0;
    int label_width = 0;  // the longest label (as cut) in pixels
    cv::Rect grid;
    cv::Size canvas;
};

ConfusionLayout confusion_layout(const std::vector<std::string> & labels, const std::string & title) {
    ConfusionLayout layout;
    const int classes = static_cast<int>(labels.size());
    layout.cell = std::clamp(640 / classes, 22, 56);
    for (const std::string & label : labels) {
        layout.label_width = std::max(layout.label_width, plot::text_size(plot::fitted(label, kMaxLabelWidth)).width);
    }
    const int side = classes * layout.cell;
    // Left: the vertical axis title, then the row labels; below: the vertical column labels, then the axis title.
    layout.grid = cv::Rect(50 + layout.label_width, 60, side, side);
    // Wide enough for the title too, up to a point (draw_title cuts what does not fit).
    const int title_width = std::min(900, plot::text_size(title, plot::kTitleScale).width + 40);
    layout.canvas.width = std::max({layout.grid.br().x + 30, 480, title_width});
    layout.canvas.height = layout.grid.br().y + 12 + layout.label_width + 50;
    return layout;
}

void draw_confusion_cells(cv::Mat3b & canvas, const ConfusionLayout & layout, const Eigen::MatrixXi & matrix) {
    const double scale = count_scale(matrix, layout.cell);
    for (Eigen::Index row = 0; row < matrix.rows(); ++row) {
        const int row_total = matrix.row(row).sum();
        for (Eigen::Index column = 0; column < matrix.cols(); ++column) {
            const int count = matrix(row, column);
            const double share = row_total == 0 ? 0.0 : static_cast<double>(count) / row_total;
            const cv::Rect cell(layout.grid.x + static_cast<int>(column) * layout.cell,
                                layout.grid.y + static_cast<int>(row) * layout.cell, layout.cell, layout.cell);
            cv::rectangle(canvas, cell, cell_shade(share), cv::FILLED);
            cv::rectangle(canvas, cell, plot::kGridLine, 1);
            if (count > 0) {
                const std::string text = std::to_string(count);
                const cv::Size size = plot::text_size(text, scale);
                plot::put_text(canvas, text, {cell.x + (cell.width - size.width) / 2, cell.y + (cell.height + size.height) / 2},
                               scale, share > 0.5 ? plot::kBackground : plot::kInk);
            }
        }
    }
    cv::rectangle(canvas, layout.grid, plot::kInk, 1);
}

void draw_confusion_labels(cv::Mat3b & canvas, const ConfusionLayout & layout, const std::vector<std::string> & labels) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const std::string label = plot::fitted(labels[i], kMaxLabelWidth);
        const cv::Size size = plot::text_size(label);
        const int centre = static_cast<int>(i) * layout.cell + layout.cell / 2;
        plot::put_text(canvas, label, {layout.grid.x - 8 - size.width, layout.grid.y + centre + size.height / 2});
        plot::put_vertical(canvas, label, layout.grid.x + centre, layout.grid.br().y + 10 + size.width / 2);
    }
    plot::put_vertical(canvas, "true class", 22, layout.grid.y + layout.grid.height / 2);
    plot::put_centred(canvas, "predicted class", layout.grid.x + layout.grid.width / 2,
                      layout.grid.br().y + 12 + layout.label_width + 30);
}

// --- reliability diagram ---

void check_bins(const std::vector<metrics::CalibrationBin> & bins, double ece) {
    if (bins.empty()) {
        invalid("reliability diagram: no bins");
    }
    for (std::size_t b = 0; b < bins.size(); ++b) {
        const metrics::CalibrationBin & bin = bins[b];
        if (!(is_fraction(bin.lower) && is_fraction(bin.upper) && bin.lower < bin.upper)) {
            invalid(fmt::format("reliability diagram: bin {} spans [{}, {}] (not within [0, 1])", b, bin.lower, bin.upper));
        }
        if (bin.count > 0 && !(is_fraction(bin.accuracy) && is_fraction(bin.mean_confidence))) {
            invalid(fmt::format("reliability diagram: bin {} has accuracy {} and mean confidence {} (not within [0, 1])",
                                b, bin.accuracy, bin.mean_confidence));
        }
    }
    if (!is_fraction(ece)) {
        invalid(fmt::format("reliability diagram: ECE {} is not within [0, 1]", ece));
    }
}

void draw_dashed(cv::Mat3b & canvas, cv::Point from, cv::Point to, const cv::Scalar & colour) {
    constexpr int kDashes = 24;
    for (int i = 0; i < 2 * kDashes; i += 2) {
        const cv::Point start = from + (to - from) * i / (2 * kDashes);
        const cv::Point end = from + (to - from) * (i + 1) / (2 * kDashes);
        cv::line(canvas, start, end, colour, 1, cv::LINE_AA);
    }
}

// --- curves and bars ---

void check_series_count(std::size_t count, const char * plot_name) {
    if (count == 0 || count > plot::kMaxSeries) {
        invalid(fmt::format("{}: {} series (1 to {} fit)", plot_name, count, plot::kMaxSeries));
    }
}

void check_curves(const std::vector<std::string> & x_ticks, const std::vector<CurveSeries> & series) {
    if (x_ticks.empty()) {
        invalid("curve plot: no x ticks");
    }
    check_series_count(series.size(), "curve plot");
    for (const CurveSeries & one : series) {
        if (one.mean.size() != x_ticks.size() || !(one.std.empty() || one.std.size() == x_ticks.size())) {
            invalid(fmt::format("curve plot: series '{}' has {} means and {} standard deviations for {} x ticks",
                                one.name, one.mean.size(), one.std.size(), x_ticks.size()));
        }
        for (std::size_t i = 0; i < one.mean.size(); ++i) {
            if (!is_fraction(one.mean[i])) {
                invalid(fmt::format("curve plot: series '{}', x tick '{}': mean {} is not within [0, 1]", one.name,
                                    x_ticks[i], one.mean[i]));
            }
            if (!one.std.empty() && !(one.std[i] >= 0.0 && std::isfinite(one.std[i]))) {
                invalid(fmt::format("curve plot: series '{}', x tick '{}': standard deviation {} is not finite and >= 0",
                                    one.name, x_ticks[i], one.std[i]));
            }
        }
    }
}

void draw_curve(cv::Mat3b & canvas, const plot::PlotArea & area, const CurveSeries & series, const cv::Scalar & colour,
                int dodge) {
    const double high = static_cast<double>(series.mean.size()) - 0.5;
    std::vector<cv::Point> points;
    for (std::size_t i = 0; i < series.mean.size(); ++i) {
        const int x = area.x_of(static_cast<double>(i), -0.5, high) + dodge;
        points.emplace_back(x, area.y_of(series.mean[i], 0.0, 1.0));
        if (!series.std.empty() && series.std[i] > 0.0) {
            const int top = area.y_of(std::min(1.0, series.mean[i] + series.std[i]), 0.0, 1.0);
            const int bottom = area.y_of(std::max(0.0, series.mean[i] - series.std[i]), 0.0, 1.0);
            cv::line(canvas, {x, top}, {x, bottom}, colour, 1);
            cv::line(canvas, {x - 4, top}, {x + 4, top}, colour, 1);
            cv::line(canvas, {x - 4, bottom}, {x + 4, bottom}, colour, 1);
        }
    }
    cv::polylines(canvas, points, false, colour, 2, cv::LINE_AA);
    for (const cv::Point & point : points) {
        cv::circle(canvas, point, 4, colour, cv::FILLED);
    }
}

void check_bars(const std::vector<std::string> & groups, const std::vector<BarSeries> & series) {
    if (groups.empty()) {
        invalid("grouped bar plot: no groups");
    }
    check_series_count(series.size(), "grouped bar plot");
    for (const BarSeries & one : series) {
        if (one.values.size() != groups.size()) {
            invalid(fmt::format("grouped bar plot: series '{}' has {} values for {} groups", one.name, one.values.size(),
                                groups.size()));
        }
        for (std::size_t g = 0; g < groups.size(); ++g) {
            if (!is_fraction(one.values[g])) {
                invalid(fmt::format("grouped bar plot: series '{}', group '{}': value {} is not within [0, 1]", one.name,
                                    groups[g], one.values[g]));
            }
        }
    }
}

}  // namespace

cv::Mat3b confusion_matrix_plot(const Eigen::MatrixXi & matrix, const std::vector<std::string> & labels,
                                const std::string & title) {
    check_confusion(matrix, labels);
    const ConfusionLayout layout = confusion_layout(labels, title);
    cv::Mat3b canvas = plot::blank_canvas(layout.canvas);
    plot::draw_title(canvas, title, canvas.cols / 2);
    draw_confusion_cells(canvas, layout, matrix);
    draw_confusion_labels(canvas, layout, labels);
    return canvas;
}

cv::Mat3b reliability_diagram(const std::vector<metrics::CalibrationBin> & bins, double ece, const std::string & title) {
    check_bins(bins, ece);
    cv::Mat3b canvas = plot::blank_canvas({620, 600});
    const plot::PlotArea area{90, 50, 570, 530};
    plot::draw_title(canvas, title, (area.left + area.right) / 2);
    plot::draw_y_axis(canvas, area, plot::unit_ticks(), 0.0, 1.0, "accuracy");
    plot::draw_x_axis(canvas, area, plot::unit_ticks(), 0.0, 1.0, "confidence");
    for (const metrics::CalibrationBin & bin : bins) {
        if (bin.count > 0 && bin.accuracy > 0.0) {
            const cv::Rect bar(cv::Point(area.x_of(bin.lower, 0.0, 1.0), area.y_of(bin.accuracy, 0.0, 1.0)),
                               cv::Point(area.x_of(bin.upper, 0.0, 1.0), area.bottom));
            cv::rectangle(canvas, bar, cv::Scalar(plot::series_colour(kReliabilityBarSeries)), cv::FILLED);
            cv::rectangle(canvas, bar, plot::kInk, 1);
        }
    }
    draw_dashed(canvas, {area.left, area.bottom}, {area.right, area.top}, kDiagonal);
    plot::draw_axes(canvas, area);
    const std::string label = fmt::format("ECE = {:.4f}", ece);
    const cv::Size size = plot::text_size(label);
    cv::rectangle(canvas, cv::Rect(area.left + 1, area.top + 1, size.width + 16, size.height + 16), plot::kBackground,
                  cv::FILLED);
    plot::put_text(canvas, label, {area.left + 9, area.top + 9 + size.height});
    return canvas;
}

cv::Mat3b curve_plot(const std::vector<std::string> & x_ticks, const std::vector<CurveSeries> & series,
                     const std::string & y_label, const std::string & title) {
    check_curves(x_ticks, series);
    const int ticks = static_cast<int>(x_ticks.size());
    cv::Mat3b canvas = plot::blank_canvas({std::max(900, 80 + 110 * ticks + kLegendMargin), 540});
    const plot::PlotArea area = legend_plot_area(canvas.size());
    std::vector<plot::Tick> positions;
    for (int i = 0; i < ticks; ++i) {
        positions.push_back({static_cast<double>(i), plot::fitted(x_ticks[static_cast<std::size_t>(i)], 100)});
    }
    plot::draw_y_axis(canvas, area, plot::unit_ticks(), 0.0, 1.0, y_label);
    plot::draw_x_axis(canvas, area, positions, -0.5, ticks - 0.5, "");
    std::vector<std::string> names;
    for (std::size_t s = 0; s < series.size(); ++s) {
        // Series side by side by a few pixels, so error bars at the same tick do not hide each other.
        const int dodge = static_cast<int>(std::lround(4.0 * (static_cast<double>(s) - (series.size() - 1) / 2.0)));
        draw_curve(canvas, area, series[s], cv::Scalar(plot::series_colour(s)), dodge);
        names.push_back(series[s].name);
    }
    plot::draw_axes(canvas, area);
    draw_title_and_legend(canvas, area, title, names);
    return canvas;
}

cv::Mat3b grouped_bar_plot(const std::vector<std::string> & groups, const std::vector<BarSeries> & series,
                           const std::string & y_label, const std::string & title) {
    check_bars(groups, series);
    const int group_width = std::max(90, 22 * static_cast<int>(series.size()) + 24);
    cv::Mat3b canvas = plot::blank_canvas({std::max(720, 80 + group_width * static_cast<int>(groups.size()) + kLegendMargin), 480});
    const plot::PlotArea area = legend_plot_area(canvas.size());
    std::vector<std::vector<double>> values;
    std::vector<std::string> names;
    for (const BarSeries & one : series) {
        values.push_back(one.values);
        names.push_back(one.name);
    }
    plot::draw_y_axis(canvas, area, plot::unit_ticks(), 0.0, 1.0, y_label);
    plot::draw_grouped_bars(canvas, area, groups, values, 1.0);
    plot::draw_axes(canvas, area);
    draw_title_and_legend(canvas, area, title, names);
    return canvas;
}

}  // namespace dermlens::eval
