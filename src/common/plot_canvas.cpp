#include "common/plot_canvas.h"

#include "dermlens/error.h"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>

namespace dermlens::plot {
namespace {

// Paper 003's greens, orange and yellow first, then colours far from them and from the greys
// of text and grid lines (no palette colour has three equal channels). BGR.
const std::array<cv::Vec3b, kMaxSeries> kPalette{{
    {120, 200, 140},  // light green
    {70, 120, 40},    // dark green
    {40, 140, 240},   // orange
    {40, 200, 240},   // yellow
    {200, 110, 60},   // blue
    {180, 90, 150},   // purple
    {60, 60, 210},    // red
    {70, 100, 140},   // brown
}};

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

int rounded(double value) {
    return static_cast<int>(std::lround(value));
}

}  // namespace

cv::Vec3b series_colour(std::size_t index) {
    if (index >= kMaxSeries) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("plot: no colour for series {} (at most {})", index + 1, kMaxSeries));
    }
    return kPalette[index];
}

int PlotArea::x_of(double value, double low, double high) const {
    return left + rounded(width() * (value - low) / (high - low));
}

int PlotArea::y_of(double value, double low, double high) const {
    return bottom - rounded(height() * (value - low) / (high - low));
}

cv::Mat3b blank_canvas(cv::Size size) {
    cv::Mat3b canvas(size);
    canvas.setTo(kBackground);
    return canvas;
}

cv::Size text_size(const std::string & text, double scale) {
    int baseline = 0;
    return cv::getTextSize(text, kFont, scale, 1, &baseline);
}

void put_text(cv::Mat3b & canvas, const std::string & text, cv::Point baseline_left, double scale,
              const cv::Scalar & colour) {
    cv::putText(canvas, text, baseline_left, kFont, scale, colour, 1, cv::LINE_AA);
}

void put_centred(cv::Mat3b & canvas, const std::string & text, int centre_x, int baseline, double scale) {
    put_text(canvas, text, {centre_x - text_size(text, scale).width / 2, baseline}, scale);
}

void put_vertical(cv::Mat3b & canvas, const std::string & text, int centre_x, int centre_y) {
    const cv::Size size = text_size(text, kTextScale);
    cv::Mat3b horizontal = blank_canvas({size.width + 4, size.height + 8});
    put_text(horizontal, text, {2, size.height + 2});
    cv::Mat3b vertical;
    cv::rotate(horizontal, vertical, cv::ROTATE_90_COUNTERCLOCKWISE);
    const cv::Rect where(centre_x - vertical.cols / 2, centre_y - vertical.rows / 2, vertical.cols, vertical.rows);
    const cv::Rect visible = where & cv::Rect(0, 0, canvas.cols, canvas.rows);
    vertical(visible - where.tl()).copyTo(canvas(visible));
}

std::string fitted(const std::string & text, int width, double scale) {
    if (text_size(text, scale).width <= width) {
        return text;
    }
    std::string cut = text;
    while (!cut.empty() && text_size(cut + "...", scale).width > width) {
        cut.pop_back();
    }
    return cut + "...";
}

void draw_title(cv::Mat3b & canvas, const std::string & title, int centre_x) {
    const int room = 2 * std::min(centre_x, canvas.cols - centre_x) - 20;
    put_centred(canvas, fitted(title, room, kTitleScale), centre_x, 30, kTitleScale);
}

std::vector<Tick> unit_ticks() {
    std::vector<Tick> ticks;
    for (int tenth = 0; tenth <= 10; tenth += 2) {
        ticks.push_back({tenth / 10.0, fmt::format("{:.1f}", tenth / 10.0)});
    }
    return ticks;
}

void draw_y_axis(cv::Mat3b & canvas, const PlotArea & area, const std::vector<Tick> & ticks, double low, double high,
                 const std::string & title) {
    for (const Tick & tick : ticks) {
        const int y = area.y_of(tick.value, low, high);
        cv::line(canvas, {area.left, y}, {area.right, y}, kGridLine, 1);
        put_text(canvas, tick.label, {area.left - 8 - text_size(tick.label).width, y + 5});
    }
    put_vertical(canvas, title, 22, (area.top + area.bottom) / 2);
}

void draw_x_axis(cv::Mat3b & canvas, const PlotArea & area, const std::vector<Tick> & ticks, double low, double high,
                 const std::string & title) {
    for (const Tick & tick : ticks) {
        const int x = area.x_of(tick.value, low, high);
        cv::line(canvas, {x, area.top}, {x, area.bottom}, kGridLine, 1);
        put_centred(canvas, tick.label, x, area.bottom + 20);
    }
    if (!title.empty()) {
        put_centred(canvas, title, (area.left + area.right) / 2, area.bottom + 50);
    }
}

void draw_axes(cv::Mat3b & canvas, const PlotArea & area) {
    cv::line(canvas, {area.left, area.bottom}, {area.right, area.bottom}, kInk, 1);
    cv::line(canvas, {area.left, area.top}, {area.left, area.bottom}, kInk, 1);
}

void draw_grouped_bars(cv::Mat3b & canvas, const PlotArea & area, const std::vector<std::string> & groups,
                       const std::vector<std::vector<double>> & values, double high) {
    // Each group's bars fill its middle 80 %, so neighbouring groups stay apart.
    const double group = area.width() / static_cast<double>(groups.size());
    const double bar = 0.8 * group / static_cast<double>(values.size());
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const double group_left = area.left + group * static_cast<double>(g);
        for (std::size_t s = 0; s < values.size(); ++s) {
            const int x0 = rounded(group_left + 0.1 * group + bar * static_cast<double>(s));
            const int x1 = rounded(group_left + 0.1 * group + bar * static_cast<double>(s + 1));
            const int y0 = area.y_of(values[s][g], 0.0, high);
            if (y0 < area.bottom && x1 > x0) {
                cv::rectangle(canvas, cv::Rect(x0, y0, x1 - x0, area.bottom - y0), cv::Scalar(series_colour(s)),
                              cv::FILLED);
            }
        }
        put_centred(canvas, fitted(groups[g], rounded(group) - 4), rounded(group_left + group / 2), area.bottom + 20);
    }
}

void draw_legend(cv::Mat3b & canvas, cv::Point top_left, int text_width, const std::vector<std::string> & names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        const int top = top_left.y + static_cast<int>(i) * 26;
        cv::rectangle(canvas, cv::Rect(top_left.x, top, 16, 16), cv::Scalar(series_colour(i)), cv::FILLED);
        put_text(canvas, fitted(names[i], text_width), {top_left.x + 24, top + 13});
    }
}

}  // namespace dermlens::plot
