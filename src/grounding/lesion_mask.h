// Lesion masks: which pixels of a dermoscopic image are the lesion, and the image with the
// lesion hidden.
//
// Paper 000 (fig. 3-4) hides the lesion of 200 images and checks whether the model abstains
// when it is offered a "not sure" option; the attention statistics (share of attention inside
// the lesion, pointing game) need the same mask. A mask comes from a mask file, else a box,
// else automatic segmentation; docs/grounding.md, "Lesion masks", describes each step.
// Images are cv::Mat3b in R, G, B channel order, as image::load_image gives them.
#pragma once

#include "image/image.h"

#include <opencv2/core.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace dermlens::grounding {

enum class MaskSource { File, Box, Auto, AutoFallback };
const char * mask_source_name(MaskSource source) noexcept;  // "file" | "box" | "auto" | "auto-fallback"

struct LesionMask {
    cv::Mat1b pixels;  // 255 = lesion, 0 = not; the image's size; never empty of lesion pixels
    MaskSource source = MaskSource::Auto;
};

// A copy of `image` as the cv::Mat3b (R, G, B) this module takes.
cv::Mat3b to_rgb_mat(const image::RgbImage & image);

// `rgb` reduced (never enlarged) so that its longer side is `longest_side`; the shorter side
// keeps at least one pixel, so that a strip of 4000 x 1 pixels is still an image.
cv::Mat3b reduced(const cv::Mat3b & rgb, int longest_side);

// A mask image (any format image::load_image reads, grey or colour, EXIF orientation
// applied): a pixel is lesion when any channel is nonzero, or, in a JPEG, whose
// compression blurs the edges, 128 or more. Transparency is composited over white
// first, so a mask must not rely on alpha. Throws Error(InvalidInput) naming the file
// when it is missing or unreadable, its size differs from `image_size` (both sizes are
// named) or it holds no lesion pixel.
LesionMask load_mask_file(const std::filesystem::path & path, cv::Size image_size);

struct PixelBox {  // pixel coordinates; x1 and y1 exclusive
    int x0 = 0;
    int y0 = 0;
    int x1 = 0;
    int y1 = 0;
};

// "x0,y0,x1,y1" (integers, spaces around them allowed); throws Error(InvalidArgument).
PixelBox parse_box(const std::string & text);

// The box as a mask; throws Error(InvalidArgument) when it is empty (x1 <= x0 or y1 <= y0)
// or does not lie inside an image of `image_size`.
LesionMask box_mask(const PixelBox & box, cv::Size image_size);

// Automatic segmentation of a dermoscopic image (docs/grounding.md, "Lesion masks"). Lengths
// are shares of the longer side of the working image (the input reduced to working_side), so
// results do not depend on the input's resolution; areas are shares of the field of view.
struct SegmentationParams {
    int working_side = 256;           // longer side the image is reduced to before segmenting
    double vignette_level = 0.35;     // darker than this share of the skin level, reaching a corner: vignette
    double hair_kernel = 0.04;        // grey closing that erases dark hairs thinner than this
    double blur_sigma = 0.01;         // Gaussian blur against skin texture and noise
    int threshold_levels = 3;         // Otsu splits of ever darker pixels tried before giving up
    double morphology_kernel = 0.03;  // opening and closing of the thresholded pixels
    double min_area = 0.005;          // smaller components are not a lesion
    double max_area = 0.95;           // larger ones are a dark image, not a lesion
    double max_border_share = 0.4;    // most of a component's outline that may lie on the frame or vignette
    double min_contrast = 12.0;       // least gap (channel levels) between a component and the skin around it
    double max_off_centre = 0.6;      // farthest a lesion's centroid lies from the centre, share of the half diagonal
    double merge_gap = 0.12;          // plausible components this close to the best one are part of the lesion
    double fallback_axes = 0.5;       // fallback: centred ellipse whose axes are this share of each side

    void validate() const;  // throws Error(InvalidArgument)
};

// The lesion found in `rgb` (source Auto), or, when no component is plausible, the fallback
// ellipse (source AutoFallback).
LesionMask segment_lesion(const cv::Mat3b & rgb, const SegmentationParams & params = {});

// Where a mask comes from, in order of preference: the file, else the box, else segmentation.
struct MaskSpec {
    std::optional<std::filesystem::path> file;
    std::optional<std::string> box;  // "x0,y0,x1,y1"
    SegmentationParams segmentation;
};

LesionMask lesion_mask(const cv::Mat3b & rgb, const MaskSpec & spec);

struct MaskingParams {
    double dilation = 0.02;        // the mask grows by this share of the image's longer side (1 pixel at least)
    int inpaint_side = 256;        // inpainting runs on a copy reduced to this longer side, for speed
    double inpaint_radius = 3.0;   // neighbourhood of cv::inpaint (Telea), pixels of the reduced copy
    double fill_smoothing = 0.05;  // Gaussian sigma smoothing the fill, share of the reduced copy's longer side

    void validate() const;  // throws Error(InvalidArgument)
};

// The mask grown as mask_lesion grows it: the pixels mask_lesion replaces.
cv::Mat1b dilated_mask(const cv::Mat1b & mask, const MaskingParams & params = {});

// `rgb` with the lesion hidden: the dilated mask is filled from the skin around it (Telea
// inpainting on the reduced copy, scaled back); every pixel outside it is left as it was.
// Deterministic. Throws Error(InvalidArgument) when the sizes differ or the mask is empty.
cv::Mat3b mask_lesion(const cv::Mat3b & rgb, const cv::Mat1b & mask, const MaskingParams & params = {});

}  // namespace dermlens::grounding
