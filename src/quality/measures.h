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

// The luma level (0..255) at or below which a share `share` (0..1) of the pixels lie. Exposure
// is judged on the picture's ends rather than its mean: a bright photo of pale skin with a dark
// lesion is not overexposed (its darkest tenth is still dark), nor is a dermoscopic image dark
// because of its vignette (its brightest tenth is still bright); a gamma curve or gain that
// washes the picture out or sinks it into shadow moves both ends.
double luma_quantile(const cv::Mat1b & grey, double share);
// Standard deviation of luma (RMS contrast, grey levels).
double rms_contrast(const cv::Mat1b & grey);
// Share of pixels burnt out to white: every channel at `highest` or more. One saturated channel
// is not lost detail (the red of inflamed skin, the blue of a dermatoscope's light).
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

// The lesion the framing checks look at, or nullopt when none is found. First the lesion
// segmentation (grounding::segment_lesion, cut lesions allowed), which looks for a region darker
// than the skin, as pigmented lesions under a dermatoscope are; when it finds none, the same
// segmentation on the colour distance from the skin (colour_distance_image): pale, red or yellow
// lesions of clinical photos (scale, crust, erythema, a vascular lesion) are not darker than
// the skin but stand out from it in colour. There a lesion must differ from the skin around it
// by kLeastLesionColourDistance in CIELAB.
std::optional<cv::Mat1b> framing_lesion(const cv::Mat3b & rgb);

// ΔE*ab (CIE 1976) that a region found by colour must stand out from the skin around it: about
// two and a half just-noticeable differences (2.3). On the shared photos, lower values let the
// segmentation find patches of ordinary skin in crops that cut the lesion away, higher ones
// miss pale lesions (docs/quality.md, "Validation").
inline constexpr double kLeastLesionColourDistance = 6.0;

// A grey image, replicated in R, G, B, of each pixel's colour distance from the skin: 255 −
// `levels_per_unit` × ΔE*ab from the median CIELAB colour of `rgb` (most of a skin photo is
// skin). Darker is farther from the skin, so the lesion segmentation finds what stands out.
cv::Mat3b colour_distance_image(const cv::Mat3b & rgb, double levels_per_unit);

// The lesion of `rgb` (framing_lesion) and how it is framed.
Framing lesion_framing(const cv::Mat3b & rgb);

}  // namespace dermlens::quality
