// Drawing primitives the report plots share (grounding/histogram_plot.h, eval/plots.h): a white
// canvas, a palette of series colours, text (centred, vertical, cut to fit), axes with ticks and
// grid lines, grouped bars and a legend. OpenCV only, so reports need no plotting library; a
// library of its own (dermlens_plot) so that dermlens_common and what builds on it stay free of OpenCV.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace dermlens::plot {

inline const cv::Scalar kBackground(255, 255, 255);
inline const cv::Scalar kInk(40, 40, 40);
inline const cv::Scalar kGridLine(225, 225, 225);
inline constexpr double kTextScale = 0.5;
inline constexpr double kTitleScale = 0.6;

inline constexpr std::size_t kMaxSeries = 8;
// The index-th series' colour (BGR): all different, none a grey like text and grid lines, so a
// series' pixels can be told apart. Throws Error(InvalidArgument) from kMaxSeries on.
cv::Vec3b series_colour(std::size_t index);

// The rectangle the data is drawn in, in canvas pixels, and the linear scales onto it.
struct PlotArea {
    int left = 0;
    int top = 0;
    int right = 0;
    int bottom = 0;

    int width() const { return right - left; }
    int height() const { return bottom - top; }
    int x_of(double value, double low, double high) const;  // low at the left edge, high at the right
    int y_of(double value, double low, double high) const;  // low at the bottom edge, high at the top
};

cv::Mat3b blank_canvas(cv::Size size);

cv::Size text_size(const std::string & text, double scale = kTextScale);
void put_text(cv::Mat3b & canvas, const std::string & text, cv::Point baseline_left, double scale = kTextScale,
              const cv::Scalar & colour = kInk);
// `text` with its baseline centred on x = centre_x, at y = baseline.
void put_centred(cv::Mat3b & canvas, const std::string & text, int centre_x, int baseline, double scale = kTextScale);
// `text` rotated a quarter turn anticlockwise (read bottom to top), centred on (centre_x, centre_y).
void put_vertical(cv::Mat3b & canvas, const std::string & text, int centre_x, int centre_y);
// `text` cut to fit `width` pixels, ending in "..." when cut.
std::string fitted(const std::string & text, int width, double scale = kTextScale);
// The title at the top of the canvas, centred on x = centre_x and cut to fit the canvas.
void draw_title(cv::Mat3b & canvas, const std::string & title, int centre_x);

struct Tick {
    double value = 0.0;
    std::string label;
};
// 0, 0.2, ..., 1 labelled "0.0" ... "1.0": the axis of accuracies and other fractions.
std::vector<Tick> unit_ticks();

// At each tick a grid line across the area and its label left of the area; the axis title written
// vertically at the canvas's left edge. Values run from `low` at the bottom to `high` at the top.
void draw_y_axis(cv::Mat3b & canvas, const PlotArea & area, const std::vector<Tick> & ticks, double low, double high,
                 const std::string & title);
// At each tick a grid line down the area and its label under it; the axis title (if any) centred below.
void draw_x_axis(cv::Mat3b & canvas, const PlotArea & area, const std::vector<Tick> & ticks, double low, double high,
                 const std::string & title);
// The area's left and bottom edges.
void draw_axes(cv::Mat3b & canvas, const PlotArea & area);

// values[s][g]: the bar of series s (in series_colour(s)) in group g; groups side by side along x,
// each group's label centred under it (cut to fit). Bars rise from 0 at the bottom to `high` at the
// top. The caller has checked the shapes and that values lie within [0, high].
void draw_grouped_bars(cv::Mat3b & canvas, const PlotArea & area, const std::vector<std::string> & groups,
                       const std::vector<std::vector<double>> & values, double high);

// A swatch in series_colour(i) and names[i] (cut to text_width) per line, from top_left down.
void draw_legend(cv::Mat3b & canvas, cv::Point top_left, int text_width, const std::vector<std::string> & names);

}  // namespace dermlens::plot
