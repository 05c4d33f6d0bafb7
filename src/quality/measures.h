// The no-reference measures of the image-quality gate (include/dermlens/quality.h), each a
// published or plainly defined statistic of the pixels; docs/quality.md gives their sources
// and units. Images are cv::Mat3b in R, G, B order (grounding::to_rgb_mat), grey is luma.
#pragma once

#include <opencv2/core.hpp>

#include <filesystem>
#include <optional>

namespace dermlens::quality {

// Crété-Roffet et al. 2007, "The blur effect": the share of the image's neighbouring-pixel
// variation that a 9-pixel box blur does NOT remove, taken the worse of rows and columns, so
// that a motion blur along one axis counts. 0 = sharp, 1 = as blurred as the box blur makes it.
double blur_effect(const cv::Mat1b & grey);

// Immerkær 1996, "Fast noise variance estimation": the standard deviation of additive white
// noise, in grey levels, from the image's response to a Laplacian-difference kernel.
double noise_sigma(const cv::Mat1b & grey);

// JPEG blocking: the mean grey-level step across the 8-pixel grid's lines over the mean step
// elsewhere, rows and columns averaged; the grid's phase is the one with the largest steps,
// so a crop that shifted the grid is still measured. 1 = no blocking.
double blockiness(const cv::Mat1b & grey);

// Mean luma (0..255).
double mean_level(const cv::Mat1b & grey);
// Standard deviation of luma (RMS contrast, grey levels).
double rms_contrast(const cv::Mat1b & grey);
// Share of pixels with a channel at `highest` or more (highlights clipped).
double clipped_share(const cv::Mat3b & rgb, int highest);

// Colour cast: how far the mean (a*, b*) of CIELAB lies outside the wedge of skin hues (angles
// from the a* axis, `lowest_hue_degrees` to `highest_hue_degrees`), in a*b* units: 0 inside,
// else the distance to the nearer edge ray. Skin of any tone lies in the wedge (its chroma
// varies, its hue little: dermoscopy's polarised light near 10°, daylight photos near 60°); a
// blue, green or purple cast moves the mean out of it. Near-black and clipped pixels are left out.
double colour_cast(const cv::Mat3b & rgb, double lowest_hue_degrees, double highest_hue_degrees);

// Share of pixels of skin colour (Chai & Ngan 1999: Cr in [133, 173], Cb in [77, 127], Cb
// widened to 145 for dermoscopy's bluer light),
// among the pixels that are not near black (a dermatoscope's dark vignette is no evidence).
double skin_share(const cv::Mat3b & rgb);

// BRISQUE (Mittal, Moorthy & Bovik 2012; OpenCV contrib's quality module): 0 (natural) … 100
// (distorted), from the model and range files in `folder` (brisque_model_live.yml,
// brisque_range_live.yml; Debian's opencv-data installs them in /usr/share/opencv4/quality).
// Empty when they are not there. The model is loaded once per folder.
std::optional<double> brisque(const cv::Mat1b & grey, const std::filesystem::path & folder);

struct Framing {
    bool found = false;       // a lesion component was segmented (not the fallback ellipse)
    double area_share = 0;    // the lesion's area over the image's
    double cut_share = 0;     // the share of the lesion's outline that lies on the image's edge (1: none found)
    double off_centre = 0;    // its centroid's distance from the centre over the half diagonal (1: none found)
};

// The lesion of `rgb` (grounding::segment_lesion, cut lesions allowed) and how it is framed.
Framing lesion_framing(const cv::Mat3b & rgb);

}  // namespace dermlens::quality
