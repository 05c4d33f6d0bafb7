#include "model/image_layout.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dermlens::model {
namespace {

enum class Preprocessing { FixedSquare, DynamicSize };

// clip.projector_type values as gguf_check reads them, mapped to the libmtmd preprocessor that
// mtmd.cpp's init_vision picks for them (LLaVA-1.6's grid pinpoints are not supported by dermlens).
Preprocessing preprocessing_of(const ProjectorInfo & projector) {
    const std::string & type = projector.projector_type;
    if (type == "gemma3" || type == "mlp") {
        return Preprocessing::FixedSquare;
    }
    if (type == "qwen2vl_merger" || type == "qwen2.5vl_merger") {
        return Preprocessing::DynamicSize;
    }
    throw Error(ErrorKind::InvalidModel,
                fmt::format("projector type '{}': dermlens does not know how libmtmd lays out its image tokens "
                            "(known: gemma3, mlp, qwen2vl_merger, qwen2.5vl_merger)",
                            type));
}

struct Rectangle {
    int x, y, width, height;
};

// img_tool::resize with PAD_CEIL (mtmd-image.cpp): the image scaled by min(W/w, H/h) with its
// sides rounded up, centred with integer division. Float arithmetic as there, or the rounding
// of a side can differ (300 * (196.f / 200) is 294.000006 in double, exactly 294 in float).
Rectangle letterbox(int image_width, int image_height, int canvas_width, int canvas_height) {
    const float scale_x = static_cast<float>(canvas_width) / static_cast<float>(image_width);
    const float scale_y = static_cast<float>(canvas_height) / static_cast<float>(image_height);
    const float scale = std::min(scale_x, scale_y);
    const float scaled_width = static_cast<float>(image_width) * scale;
    const float scaled_height = static_cast<float>(image_height) * scale;
    const int width = std::min(static_cast<int>(std::ceil(scaled_width)), canvas_width);
    const int height = std::min(static_cast<int>(std::ceil(scaled_height)), canvas_height);
    return {(canvas_width - width) / 2, (canvas_height - height) / 2, width, height};
}

[[noreturn]] void fail_tiling(const ProjectorInfo & projector, const std::string & reason) {
    throw Error(ErrorKind::InvalidModel, fmt::format("projector type '{}': {}", projector.projector_type, reason));
}

int square_side(int n_tokens) {
    int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(n_tokens))));
    while (side * side > n_tokens) {
        --side;
    }
    return side;
}

// Fixed-size encoders report their tokens as one row; they tile the square canvas of
// clip.vision.image_size, each token covering a whole number of patches (Gemma 3 pools 4 x 4).
void lay_out_fixed_square(const ProjectorInfo & projector, int n_tokens, int mtmd_columns, int mtmd_rows,
                          ImageLayout & layout) {
    if (mtmd_rows != 1 || mtmd_columns != n_tokens) {
        fail_tiling(projector, fmt::format("a fixed-size encoder lays out its {} tokens as {} x 1, not {} x {}",
                                           n_tokens, n_tokens, mtmd_columns, mtmd_rows));
    }
    const int side = square_side(n_tokens);
    if (side * side != n_tokens) {
        fail_tiling(projector, fmt::format("{} image tokens do not tile a square canvas", n_tokens));
    }
    const auto canvas = static_cast<int>(projector.image_size);
    const auto patch = static_cast<int>(projector.patch_size);
    if (canvas <= 0 || patch <= 0 || canvas % patch != 0 || (canvas / patch) % side != 0) {
        fail_tiling(projector, fmt::format("a {} x {} token grid does not tile an image size of {} px in patches of {} px",
                                           side, side, projector.image_size, projector.patch_size));
    }
    layout.grid_columns = side;
    layout.grid_rows = side;
    layout.canvas_width = canvas;
    layout.canvas_height = canvas;
}

// Qwen2-VL / Qwen2.5-VL: every token merges 2 x 2 patches (clip_n_output_tokens_x/_y divide by
// 2 whatever spatial_merge_size says), and the canvas is the aligned size libmtmd resized to.
void lay_out_dynamic(const ProjectorInfo & projector, int n_tokens, int mtmd_columns, int mtmd_rows,
                     ImageLayout & layout) {
    if (mtmd_columns <= 0 || mtmd_rows <= 0 || mtmd_columns * mtmd_rows != n_tokens) {
        fail_tiling(projector, fmt::format("{} image tokens do not fill a {} x {} grid", n_tokens, mtmd_columns, mtmd_rows));
    }
    const auto patch = static_cast<int>(projector.patch_size);
    if (patch <= 0) {
        fail_tiling(projector, "the projector gives no patch size (clip.vision.patch_size)");
    }
    constexpr int kMergedPatchesPerSide = 2;
    layout.grid_columns = mtmd_columns;
    layout.grid_rows = mtmd_rows;
    layout.canvas_width = mtmd_columns * kMergedPatchesPerSide * patch;
    layout.canvas_height = mtmd_rows * kMergedPatchesPerSide * patch;
}

}  // namespace

ImageLayout image_layout(const ProjectorInfo & projector, int image_width, int image_height, int n_tokens,
                         int mtmd_columns, int mtmd_rows) {
    if (image_width <= 0 || image_height <= 0) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("image layout: the image must have a positive size (got {} x {})", image_width,
                                image_height));
    }
    if (n_tokens <= 0) {
        fail_tiling(projector, fmt::format("{} image tokens", n_tokens));
    }
    ImageLayout layout;
    if (preprocessing_of(projector) == Preprocessing::FixedSquare) {
        lay_out_fixed_square(projector, n_tokens, mtmd_columns, mtmd_rows, layout);
    } else {
        lay_out_dynamic(projector, n_tokens, mtmd_columns, mtmd_rows, layout);
    }
    const Rectangle content = letterbox(image_width, image_height, layout.canvas_width, layout.canvas_height);
    layout.content_x = content.x;
    layout.content_y = content.y;
    layout.content_width = content.width;
    layout.content_height = content.height;
    layout.image_width = image_width;
    layout.image_height = image_height;
    return layout;
}

}  // namespace dermlens::model
