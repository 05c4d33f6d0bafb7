#include "grounding/heatmap.h"

#include "common/npy.h"
#include "common/atomic_file.h"
#include "dermlens/error.h"

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

namespace dermlens::grounding {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void invalid(const std::string & message) {
    throw Error(ErrorKind::InvalidArgument, message);
}

void check_layout(const model::ImageLayout & layout) {
    if (layout.grid_columns <= 0 || layout.grid_rows <= 0 || layout.image_width <= 0 || layout.image_height <= 0 ||
        layout.canvas_width <= 0 || layout.canvas_height <= 0) {
        invalid(fmt::format("image layout: empty grid ({} x {}), canvas ({} x {}) or image ({} x {})",
                            layout.grid_columns, layout.grid_rows, layout.canvas_width, layout.canvas_height,
                            layout.image_width, layout.image_height));
    }
    if (layout.content_width <= 0 || layout.content_height <= 0 || layout.content_x < 0 || layout.content_y < 0 ||
        layout.content_x + layout.content_width > layout.canvas_width ||
        layout.content_y + layout.content_height > layout.canvas_height) {
        invalid(fmt::format("image layout: content rectangle {} x {} at ({}, {}) is not inside the {} x {} canvas",
                            layout.content_width, layout.content_height, layout.content_x, layout.content_y,
                            layout.canvas_width, layout.canvas_height));
    }
}

void check_token_values(const std::vector<float> & token_values, const model::ImageLayout & layout) {
    if (token_values.size() != static_cast<std::size_t>(layout.tokens())) {
        invalid(fmt::format("{} token values for a {} x {} token grid ({} tokens)", token_values.size(),
                            layout.grid_columns, layout.grid_rows, layout.tokens()));
    }
    const auto bad = std::find_if(token_values.begin(), token_values.end(), [](float v) { return !std::isfinite(v); });
    if (bad != token_values.end()) {
        invalid(fmt::format("token value {} is {}", bad - token_values.begin(), *bad));
    }
}

// One output pixel along an axis: (1 - weight) * cell[first] + weight * cell[second].
struct Tap {
    int first;
    int second;
    float weight;
};

// The grid cells around each of `pixels` image pixels along one axis. Pixel i's centre lies at
// canvas coordinate offset + (i + 0.5) * extent / pixels (the content rectangle stretched over
// the image); cell j's centre at (j + 0.5) * canvas / cells.
std::vector<Tap> axis_taps(int pixels, int offset, int extent, int canvas, int cells) {
    std::vector<Tap> taps(static_cast<std::size_t>(pixels));
    for (int i = 0; i < pixels; ++i) {
        const double canvas_position = offset + (i + 0.5) * extent / pixels;
        const double cell = std::clamp(canvas_position * cells / canvas - 0.5, 0.0, cells - 1.0);
        const int first = static_cast<int>(cell);
        taps[static_cast<std::size_t>(i)] = {first, std::min(first + 1, cells - 1), static_cast<float>(cell - first)};
    }
    return taps;
}

void check_image(const cv::Mat3b & image, const char * what) {
    if (image.empty()) {
        invalid(fmt::format("{}: the image is empty", what));
    }
}

void check_map(const cv::Mat1f & map, const cv::Size & size) {
    if (map.size() != size) {
        invalid(fmt::format("heat map overlay: the map is {} x {}, the image {} x {}", map.cols, map.rows, size.width,
                            size.height));
    }
    if (!cv::checkRange(map)) {
        invalid("heat map overlay: the map has values that are not finite");
    }
}

// 0..255 from the map's minimum to its maximum; all 0 when it has one value only.
cv::Mat1b min_max_levels(const cv::Mat1f & map) {
    double low = 0;
    double high = 0;
    cv::minMaxLoc(map, &low, &high);
    cv::Mat1b levels(map.size(), 0);
    if (high > low) {
        map.convertTo(levels, CV_8U, 255.0 / (high - low), -low * 255.0 / (high - low));
    }
    return levels;
}

}  // namespace

cv::Mat1f upsample_to_image(const std::vector<float> & token_values, const model::ImageLayout & layout) {
    check_layout(layout);
    check_token_values(token_values, layout);
    const std::vector<Tap> columns = axis_taps(layout.image_width, layout.content_x, layout.content_width,
                                               layout.canvas_width, layout.grid_columns);
    const std::vector<Tap> rows = axis_taps(layout.image_height, layout.content_y, layout.content_height,
                                            layout.canvas_height, layout.grid_rows);
    const cv::Mat1f grid = cv::Mat1f(token_values, true).reshape(1, layout.grid_rows);
    cv::Mat1f map(layout.image_height, layout.image_width);
    cv::Mat1f grid_row(1, layout.grid_columns);
    for (int y = 0; y < layout.image_height; ++y) {
        const Tap & row = rows[static_cast<std::size_t>(y)];
        cv::addWeighted(grid.row(row.first), 1.0 - row.weight, grid.row(row.second), row.weight, 0.0, grid_row);
        float * out = map[y];
        for (int x = 0; x < layout.image_width; ++x) {
            const Tap & column = columns[static_cast<std::size_t>(x)];
            out[x] = (1.0f - column.weight) * grid_row(0, column.first) + column.weight * grid_row(0, column.second);
        }
    }
    return map;
}

cv::Mat3b overlay(const cv::Mat3b & image, ChannelOrder order, const cv::Mat1f & map, double alpha) {
    check_image(image, "heat map overlay");
    check_map(map, image.size());
    if (!(alpha >= 0.0 && alpha <= 1.0)) {
        invalid(fmt::format("heat map overlay: alpha must be within [0, 1] (got {})", alpha));
    }
    cv::Mat3b colour;
    cv::applyColorMap(min_max_levels(map), colour, cv::COLORMAP_JET);  // BGR
    if (order == ChannelOrder::Rgb) {
        cv::cvtColor(colour, colour, cv::COLOR_BGR2RGB);
    }
    cv::Mat3b blended;
    cv::addWeighted(image, 1.0 - alpha, colour, alpha, 0.0, blended);
    return blended;
}

void write_heatmap_png(const fs::path & path, const cv::Mat3b & image, ChannelOrder order) {
    check_image(image, "heat map PNG");
    cv::Mat3b bgr;  // a new buffer: converting into a header of `image` would change the caller's pixels
    if (order == ChannelOrder::Rgb) {
        cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
    } else {
        bgr = image;
    }
    std::vector<unsigned char> png;
    if (!cv::imencode(".png", bgr, png)) {
        throw Error(ErrorKind::Runtime, fmt::format("heat map PNG '{}': OpenCV could not encode it", path.string()));
    }
    write_file_atomically(path, {reinterpret_cast<const char *>(png.data()), png.size()}, "heat map PNG");
}

void write_grid_npy(const fs::path & path, const std::vector<float> & token_values, const model::ImageLayout & layout) {
    if (layout.grid_columns <= 0 || layout.grid_rows <= 0) {
        invalid(fmt::format("token grid .npy: the grid is {} x {}", layout.grid_columns, layout.grid_rows));
    }
    check_token_values(token_values, layout);
    const std::array<std::size_t, 2> shape{static_cast<std::size_t>(layout.grid_rows),
                                           static_cast<std::size_t>(layout.grid_columns)};
    write_file_atomically(path, npy_float32(token_values, shape), "token grid .npy");
}

}  // namespace dermlens::grounding
