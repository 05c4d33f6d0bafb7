// Heat maps on the image (grounding/heatmap.h): a one-hot token lands where that token's canvas
// tile lies in the image (the tile mapped back through the letterbox, written here on its own),
// for each architecture's preprocessing and non-square images; a map linear in the tokens keeps
// the token pitch; the overlay's channel order, normalisation and blending; the PNG and .npy
// files as OpenCV and numpy read them.
#include "grounding/heatmap.h"

#include "common/npy.h"
#include "model/image_layout.h"
#include "support/expect_error.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

namespace grounding = dermlens::grounding;
using dermlens::ErrorKind;
using dermlens::model::ImageLayout;
using dermlens::model::ProjectorInfo;
using dermlens::test::expect_error;
using grounding::ChannelOrder;

struct Preprocessing {
    const char * name;
    ProjectorInfo projector;
};

ProjectorInfo projector(const char * type, int image_size, int patch_size) {
    ProjectorInfo info;
    info.projector_type = type;
    info.output_dim = 2560;
    info.image_size = image_size;
    info.patch_size = patch_size;
    return info;
}

// The released encoders' geometry: MedGemma's 896 px / 16 x 16 tokens, LLaVA-1.5's 336 px /
// 24 x 24 patches, Qwen2.5-VL's 14 px patches merged 2 x 2.
const std::array<Preprocessing, 3> kPreprocessing{{
    {"gemma3", projector("gemma3", 896, 14)},
    {"llava", projector("mlp", 336, 14)},
    {"qwen2.5-vl", projector("qwen2.5vl_merger", 560, 14)},
}};

struct ImageSize {
    int width;
    int height;
};
constexpr std::array<ImageSize, 4> kSizes{{{300, 200}, {200, 300}, {641, 479}, {900, 150}}};

// The layout of an image under each preprocessing: fixed squares report n x 1 tokens; Qwen's
// tokenizer gives the grid of its resized canvas, each side rounded to 28 px (within its pixel limits).
ImageLayout layout_for(const Preprocessing & preprocessing, ImageSize size) {
    const ProjectorInfo & info = preprocessing.projector;
    if (info.projector_type == "qwen2.5vl_merger") {
        const int columns = std::max(1, static_cast<int>(std::lround(size.width / 28.0)));
        const int rows = std::max(1, static_cast<int>(std::lround(size.height / 28.0)));
        return dermlens::model::image_layout(info, size.width, size.height, columns * rows, columns, rows);
    }
    const int side = info.projector_type == "gemma3" ? 16 : 24;
    return dermlens::model::image_layout(info, size.width, size.height, side * side, side * side, 1);
}

// A token's tile mapped back to the image: the part of the tile on the content rectangle, scaled
// from content to image pixels. Continuous coordinates (pixel i spans [i, i + 1)).
struct ImageRect {
    double x0, y0, x1, y1;
    bool empty() const { return x1 <= x0 || y1 <= y0; }
};

ImageRect token_in_image(const ImageLayout & layout, int column, int row) {
    const double tile_width = static_cast<double>(layout.canvas_width) / layout.grid_columns;
    const double tile_height = static_cast<double>(layout.canvas_height) / layout.grid_rows;
    const double canvas_x0 = std::max<double>(column * tile_width, layout.content_x);
    const double canvas_x1 = std::min<double>((column + 1) * tile_width, layout.content_x + layout.content_width);
    const double canvas_y0 = std::max<double>(row * tile_height, layout.content_y);
    const double canvas_y1 = std::min<double>((row + 1) * tile_height, layout.content_y + layout.content_height);
    const double to_image_x = static_cast<double>(layout.image_width) / layout.content_width;
    const double to_image_y = static_cast<double>(layout.image_height) / layout.content_height;
    return {(canvas_x0 - layout.content_x) * to_image_x, (canvas_y0 - layout.content_y) * to_image_y,
            (canvas_x1 - layout.content_x) * to_image_x, (canvas_y1 - layout.content_y) * to_image_y};
}

std::vector<float> one_hot(const ImageLayout & layout, int column, int row) {
    std::vector<float> values(static_cast<std::size_t>(layout.tokens()), 0.0f);
    values[static_cast<std::size_t>(row * layout.grid_columns + column)] = 1.0f;
    return values;
}

TEST(Heatmap, AOneHotTokenPeaksInsideTheImageRectangleThatTokenCovers) {
    int checked = 0;
    int centred = 0;
    for (const Preprocessing & preprocessing : kPreprocessing) {
        for (const ImageSize size : kSizes) {
            const ImageLayout layout = layout_for(preprocessing, size);
            // Every token of the small grids, a spread of those of the large ones, always the corners.
            const int stride = std::max(1, layout.tokens() / 60);
            for (int token = 0; token < layout.tokens(); ++token) {
                const int column = token % layout.grid_columns;
                const int row = token / layout.grid_columns;
                const bool corner = (column == 0 || column == layout.grid_columns - 1) &&
                                    (row == 0 || row == layout.grid_rows - 1);
                const ImageRect rect = token_in_image(layout, column, row);
                if ((token % stride != 0 && !corner) || rect.empty()) {
                    continue;  // a token on padding alone has no place in the image
                }
                SCOPED_TRACE(::testing::Message() << preprocessing.name << " " << size.width << "x" << size.height
                                                  << " token " << column << "," << row);
                const cv::Mat1f map = grounding::upsample_to_image(one_hot(layout, column, row), layout);
                ASSERT_EQ(map.cols, size.width);
                ASSERT_EQ(map.rows, size.height);
                cv::Point peak;
                cv::minMaxLoc(map, nullptr, nullptr, nullptr, &peak);
                const double peak_x = peak.x + 0.5;
                const double peak_y = peak.y + 0.5;
                EXPECT_GE(peak_x, rect.x0 - 0.5);
                EXPECT_LE(peak_x, rect.x1 + 0.5);
                EXPECT_GE(peak_y, rect.y0 - 0.5);
                EXPECT_LE(peak_y, rect.y1 + 0.5);
                // A token with neighbours on every side and its whole tile on the image peaks at
                // the tile's centre (beyond the outermost token centres the map is flat).
                const bool inner = column > 0 && row > 0 && column < layout.grid_columns - 1 && row < layout.grid_rows - 1;
                const double tile_width = layout.canvas_width / double(layout.grid_columns) * layout.image_width /
                                          layout.content_width;
                const double tile_height = layout.canvas_height / double(layout.grid_rows) * layout.image_height /
                                           layout.content_height;
                const bool whole_tile = rect.x1 - rect.x0 > tile_width - 1e-6 && rect.y1 - rect.y0 > tile_height - 1e-6;
                if (inner && whole_tile) {
                    EXPECT_NEAR(peak_x, (rect.x0 + rect.x1) / 2, 1.0);
                    EXPECT_NEAR(peak_y, (rect.y0 + rect.y1) / 2, 1.0);
                    ++centred;
                }
                ++checked;
            }
        }
    }
    EXPECT_GT(checked, 300);
    EXPECT_GT(centred, 100);
}

TEST(Heatmap, AMapLinearInTheTokenColumnRisesByOnePerTokenWidthOnTheImage) {
    for (const Preprocessing & preprocessing : kPreprocessing) {
        for (const ImageSize size : kSizes) {
            SCOPED_TRACE(::testing::Message() << preprocessing.name << " " << size.width << "x" << size.height);
            const ImageLayout layout = layout_for(preprocessing, size);
            std::vector<float> values(static_cast<std::size_t>(layout.tokens()));
            for (std::size_t i = 0; i < values.size(); ++i) {
                values[i] = static_cast<float>(i % static_cast<std::size_t>(layout.grid_columns));
            }
            const cv::Mat1f map = grounding::upsample_to_image(values, layout);
            // Token pitch in image pixels: the canvas tile width through the content's scale.
            const double pitch =
                layout.canvas_width / double(layout.grid_columns) * layout.image_width / layout.content_width;
            // Two pixels between the first and last token centres (where the map is not clamped).
            const double first_centre = (0.5 * layout.canvas_width / layout.grid_columns - layout.content_x) *
                                        layout.image_width / layout.content_width;
            const int x1 = std::max(0, static_cast<int>(std::ceil(first_centre)));
            const int x2 = std::min(size.width - 1, static_cast<int>(x1 + 2 * pitch));
            if (layout.grid_columns < 4 || x2 <= x1) {
                continue;
            }
            const int y = size.height / 2;
            EXPECT_NEAR(map(y, x2) - map(y, x1), (x2 - x1) / pitch, 1e-3);
        }
    }
}

TEST(Heatmap, UpsamplingRefusesValuesThatDoNotFitTheLayout) {
    const ImageLayout layout = layout_for(kPreprocessing[0], {300, 200});
    expect_error([&] { grounding::upsample_to_image(std::vector<float>(255, 1.0f), layout); }, ErrorKind::InvalidArgument,
                 {"255 token values", "16 x 16"});
    std::vector<float> with_nan(256, 1.0f);
    with_nan[7] = std::numeric_limits<float>::quiet_NaN();
    expect_error([&] { grounding::upsample_to_image(with_nan, layout); }, ErrorKind::InvalidArgument, {"token value 7"});
    ImageLayout off_canvas = layout;
    off_canvas.content_x = layout.canvas_width - 10;
    expect_error([&] { grounding::upsample_to_image(std::vector<float>(256, 1.0f), off_canvas); },
                 ErrorKind::InvalidArgument, {"content rectangle", "canvas"});
    expect_error([&] { grounding::upsample_to_image({}, ImageLayout{}); }, ErrorKind::InvalidArgument, {"empty grid"});
}

// An image and a map hot on the right, cold on the left.
struct OverlayCase {
    cv::Mat3b image = cv::Mat3b(40, 60, cv::Vec3b(10, 100, 200));
    cv::Mat1f map = cv::Mat1f(40, 60, 0.25f);
    OverlayCase() { map.colRange(30, 60).setTo(0.75f); }
};

cv::Vec3b jet_bgr(unsigned char level) {
    cv::Mat1b gray(1, 1, level);
    cv::Mat3b colour;
    cv::applyColorMap(gray, colour, cv::COLORMAP_JET);
    return colour(0, 0);
}

TEST(Overlay, ColoursTheMapFromLowToHighInTheImagesChannelOrder) {
    const OverlayCase c;
    const cv::Vec3b cold = jet_bgr(0);
    const cv::Vec3b hot = jet_bgr(255);
    ASSERT_GT(hot[2], hot[0]);  // JET: red is hot, blue cold (BGR)
    const cv::Mat3b bgr = grounding::overlay(c.image, ChannelOrder::Bgr, c.map, 1.0);
    EXPECT_EQ(bgr(0, 0), cold);
    EXPECT_EQ(bgr(0, 59), hot);
    const cv::Mat3b rgb = grounding::overlay(c.image, ChannelOrder::Rgb, c.map, 1.0);
    EXPECT_EQ(rgb(0, 0), cv::Vec3b(cold[2], cold[1], cold[0]));
    EXPECT_EQ(rgb(0, 59), cv::Vec3b(hot[2], hot[1], hot[0]));
}

TEST(Overlay, NormalisesMinToMaxAndBlendsWithAlpha) {
    const OverlayCase c;
    const cv::Mat3b plain = grounding::overlay(c.image, ChannelOrder::Bgr, c.map, 0.6);
    const cv::Mat1f shifted_scaled = c.map * 40.0f + 3.0f;
    EXPECT_EQ(cv::norm(grounding::overlay(c.image, ChannelOrder::Bgr, shifted_scaled, 0.6), plain, cv::NORM_INF), 0.0);
    EXPECT_EQ(cv::norm(grounding::overlay(c.image, ChannelOrder::Bgr, c.map, 0.0), c.image, cv::NORM_INF), 0.0);
    const cv::Vec3b hot = jet_bgr(255);
    for (int channel = 0; channel < 3; ++channel) {
        EXPECT_NEAR(plain(5, 50)[channel], 0.4 * c.image(5, 50)[channel] + 0.6 * hot[channel], 1.0);
    }
    // A constant map has no high or low: all of it takes the lowest colour.
    const cv::Mat3b flat = grounding::overlay(c.image, ChannelOrder::Bgr, cv::Mat1f(40, 60, 2.0f), 1.0);
    EXPECT_EQ(flat(20, 45), jet_bgr(0));
}

TEST(Overlay, RefusesMismatchedOrInvalidInput) {
    const OverlayCase c;
    expect_error([&] { grounding::overlay(c.image, ChannelOrder::Rgb, cv::Mat1f(40, 61, 0.0f), 0.5); },
                 ErrorKind::InvalidArgument, {"61 x 40", "60 x 40"});
    expect_error([&] { grounding::overlay(c.image, ChannelOrder::Rgb, c.map, 1.5); }, ErrorKind::InvalidArgument,
                 {"alpha", "1.5"});
    cv::Mat1f with_inf = c.map.clone();
    with_inf(3, 3) = std::numeric_limits<float>::infinity();
    expect_error([&] { grounding::overlay(c.image, ChannelOrder::Rgb, with_inf, 0.5); }, ErrorKind::InvalidArgument,
                 {"not finite"});
    expect_error([&] { grounding::overlay(cv::Mat3b(), ChannelOrder::Rgb, cv::Mat1f(), 0.5); }, ErrorKind::InvalidArgument,
                 {"empty"});
}

TEST(HeatmapFiles, PngHoldsTheOverlayInTheRightChannelOrder) {
    const dermlens::test::TempDir dir("heatmap_png");
    cv::Mat3b rgb(30, 50, cv::Vec3b(250, 20, 5));  // red in RGB
    rgb(10, 10) = cv::Vec3b(1, 2, 3);
    grounding::write_heatmap_png(dir / "rgb.png", rgb, ChannelOrder::Rgb);
    const cv::Mat read_back = cv::imread((dir / "rgb.png").string(), cv::IMREAD_UNCHANGED);  // BGR
    ASSERT_EQ(read_back.type(), CV_8UC3);
    ASSERT_EQ(read_back.size(), rgb.size());
    EXPECT_EQ(read_back.at<cv::Vec3b>(0, 0), cv::Vec3b(5, 20, 250));
    EXPECT_EQ(read_back.at<cv::Vec3b>(10, 10), cv::Vec3b(3, 2, 1));
    grounding::write_heatmap_png(dir / "bgr.png", rgb, ChannelOrder::Bgr);
    EXPECT_EQ(cv::imread((dir / "bgr.png").string()).at<cv::Vec3b>(0, 0), cv::Vec3b(250, 20, 5));
    expect_error([&] { grounding::write_heatmap_png(dir / "no/such/dir/x.png", rgb, ChannelOrder::Rgb); },
                 ErrorKind::InvalidInput, {"no/such/dir/x.png", "cannot create"});
}

// numpy's view of a .npy file: {"shape": [...], "dtype": "...", "values": [... C order]}.
nlohmann::json numpy_load(const std::filesystem::path & path) {
    const auto result = dermlens::test::run_process(
        {DERMLENS_PYTHON, "-c",
         "import json, sys, numpy\n"
         "a = numpy.load(sys.argv[1])\n"
         "print(json.dumps({'shape': list(a.shape), 'dtype': str(a.dtype), 'values': a.ravel(order='C').tolist()}))",
         path.string()});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return nlohmann::json::parse(result.out);
}

TEST(HeatmapFiles, GridNpyIsAFloat32ArrayOfGridRowsByColumnsThatNumpyReads) {
    const dermlens::test::TempDir dir("heatmap_npy");
    const ImageLayout layout = layout_for(kPreprocessing[2], {300, 200});  // 11 x 7 tokens
    ASSERT_NE(layout.grid_columns, layout.grid_rows);
    std::vector<float> values(static_cast<std::size_t>(layout.tokens()));
    for (std::size_t i = 0; i < values.size(); ++i) {
        values[i] = static_cast<float>(i) * 0.37f - 3.0f;
    }
    grounding::write_grid_npy(dir / "grid.npy", values, layout);
    const nlohmann::json array = numpy_load(dir / "grid.npy");
    EXPECT_EQ(array["dtype"], "float32");
    EXPECT_EQ(array["shape"], nlohmann::json::array({layout.grid_rows, layout.grid_columns}));
    ASSERT_EQ(array["values"].size(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        EXPECT_EQ(array["values"][i].get<float>(), values[i]) << i;
    }
    expect_error([&] { grounding::write_grid_npy(dir / "short.npy", {1.0f, 2.0f}, layout); }, ErrorKind::InvalidArgument,
                 {"2 token values"});
}

TEST(HeatmapFiles, NpyEncodingOfOtherShapesIsWhatNumpyReads) {
    const dermlens::test::TempDir dir("npy_shapes");
    const std::vector<float> values{1.5f, -2.0f, 0.0f, 3.25f, 1e-8f, 7.0f};
    const std::array<std::size_t, 1> flat{6};
    const std::array<std::size_t, 3> cube{1, 2, 3};
    for (const auto & [name, shape] : std::vector<std::pair<std::string, std::vector<std::size_t>>>{
             {"flat.npy", {flat.begin(), flat.end()}}, {"cube.npy", {cube.begin(), cube.end()}}}) {
        dermlens::test::write_file(dir / name, dermlens::npy_float32(values, shape));
        const nlohmann::json array = numpy_load(dir / name);
        EXPECT_EQ(array["shape"], nlohmann::json(shape));
        EXPECT_EQ(array["values"].get<std::vector<float>>(), values);
    }
    const std::array<std::size_t, 2> wrong{4, 2};
    expect_error([&] { dermlens::npy_float32(values, wrong); }, ErrorKind::InvalidArgument, {"(4, 2)", "8", "6"});
}

}  // namespace
