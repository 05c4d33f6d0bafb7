// Where each image token of a prompt comes from in the original image.
//
// libmtmd turns an image into the encoder's input canvas before anything else
// (tools/mtmd/mtmd-image.cpp), per clip.projector_type:
//   gemma3, mlp (LLaVA-1.5)   fixed square canvas of clip.vision.image_size
//   qwen2vl_merger,           a canvas of about the image's size and aspect, its sides
//   qwen2.5vl_merger          rounded to multiples of 2 x patch size (calc_size_preserved_ratio)
// and in both cases the image is letterboxed into the canvas (PAD_CEIL): scaled by
// min(W/w, H/h), its new sides rounded up, pasted at ((W-w')/2, (H-h')/2) on a pad colour.
// Qwen's padding is a thin band on one axis (its canvas nearly has the image's aspect), but
// not none; the fixed squares pad the whole difference in aspect.
// The encoder's tokens tile the canvas as a grid, row-major: Gemma 3's 256 pooled tokens a
// 16 x 16 grid, LLaVA's 576 patches 24 x 24, Qwen2-VL's merged 2 x 2 patches (W/28) x (H/28).
// A heat map over the tokens lands on the image by tiling the canvas with the grid, then
// cutting the image's rectangle out of it and scaling that to the image's size.
#pragma once

#include "model/gguf_check.h"

namespace dermlens::model {

struct ImageLayout {
    int grid_columns = 0;  // tokens per row
    int grid_rows = 0;     // rows of tokens; token i is at (i % grid_columns, i / grid_columns)
    int canvas_width = 0;  // the encoder's input, in pixels
    int canvas_height = 0;
    // The rectangle of the canvas the image fills (the rest is padding), in canvas pixels.
    int content_x = 0;
    int content_y = 0;
    int content_width = 0;
    int content_height = 0;
    int image_width = 0;  // the original image the content rectangle was scaled from
    int image_height = 0;

    int tokens() const noexcept { return grid_columns * grid_rows; }
};

// The layout libmtmd gives an image of `image_width` x `image_height` under `projector`,
// whose tokenizer laid it out as `n_tokens` tokens in an `mtmd_columns` x `mtmd_rows` grid
// (mtmd_image_tokens_get_nx / _ny: fixed-size encoders report n_tokens x 1). Throws
// Error(InvalidModel) for a projector type whose preprocessing dermlens does not know, or a
// token count that does not tile its canvas; Error(InvalidArgument) for an empty image size.
ImageLayout image_layout(const ProjectorInfo & projector, int image_width, int image_height, int n_tokens,
                         int mtmd_columns, int mtmd_rows);

}  // namespace dermlens::model
