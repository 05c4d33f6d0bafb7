// Heat maps: a value per image token (an attention vector, paper 000 eq. 2-4) put back on
// the image it came from, drawn over it, and saved.
//
// The token grid tiles libmtmd's canvas (model/image_layout.h); the map is bilinear between
// the token centres, and what lies over the image's rectangle of the canvas is stretched to
// the image's own size, so padding never shows and a letterboxed image is not distorted.
// Images here are OpenCV 8-bit 3-channel matrices in either channel order: dermlens::image
// decodes to RGB, OpenCV's imread/imwrite use BGR; every function says which it takes.
#pragma once

#include "model/image_layout.h"

#include <opencv2/core.hpp>

#include <filesystem>
#include <vector>

namespace dermlens::grounding {

enum class ChannelOrder { Rgb, Bgr };

// `token_values` (row-major over the layout's grid) as a map of image_height x image_width:
// the grid's cell centres sit at the token centres of the canvas, bilinear in between and
// constant beyond the outermost centres; the content rectangle is then scaled to the image.
// Throws Error(InvalidArgument) when the values do not fill the grid, a value is not finite,
// or the layout is not one (empty grid or image, content rectangle off the canvas).
cv::Mat1f upsample_to_image(const std::vector<float> & token_values, const model::ImageLayout & layout);

// `image` (channels in `order`) with `map` drawn over it: the map min-max normalised to 0..255
// (a constant map is all 0), coloured with OpenCV's JET (blue low, red high) and blended as
// (1 - alpha) * image + alpha * colour. The result has the image's channel order. Throws
// Error(InvalidArgument) for an empty image, a map of another size or with non-finite values,
// or alpha outside [0, 1].
cv::Mat3b overlay(const cv::Mat3b & image, ChannelOrder order, const cv::Mat1f & map, double alpha);

// A PNG of `image` (channels in `order`). Throws Error(InvalidInput) naming the file when it
// cannot be written, Error(InvalidArgument) for an empty image.
void write_heatmap_png(const std::filesystem::path & path, const cv::Mat3b & image, ChannelOrder order);

// The token values as a float32 .npy array of shape (grid_rows, grid_columns), for numpy.
// Throws Error(InvalidArgument) when the values do not fill the grid, Error(InvalidInput)
// naming the file when it cannot be written.
void write_grid_npy(const std::filesystem::path & path, const std::vector<float> & token_values,
                    const model::ImageLayout & layout);

}  // namespace dermlens::grounding
