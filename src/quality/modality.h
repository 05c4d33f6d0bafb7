// The modality classifier of MM-Skin's data tools (paper 001, 3.1.1): is an image clinical,
// dermoscopic or pathology? "x … consists of the color histogram and LBP features … we extract
// features x_ref_i from reference images and construct a feature library. The test image
// x_test is compared to each reference … and assigned to the category of the reference image
// with the smallest distance", d = ‖x_test − x_ref_i‖. The paper leaves the features' details
// open; papers-spec.md C.1's documented choice is followed: an HSV histogram of 8 × 8 × 8 bins
// and a uniform LBP histogram (P = 8, R = 1, 59 bins) of the grey image reduced to 256 pixels
// on its shorter side, each L1-normalised, concatenated with equal weight; L2 distance; k = 1
// by default, k > 1 by majority vote. The paper verifies the classes by hand: the margin of
// each decision says which images to look at (docs/data-tools.md, "Modality").
#pragma once

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace dermlens::quality {

inline constexpr int kHsvBins = 8;       // per channel: 8 x 8 x 8 = 512 colour bins
inline constexpr int kLbpBins = 59;      // 58 uniform patterns of 8 neighbours, and one for the rest
inline constexpr int kFeatureSize = kHsvBins * kHsvBins * kHsvBins + kLbpBins;
inline constexpr int kModalitySide = 256;  // the shorter side images are reduced to

// The uniform LBP code histogram (P = 8, R = 1, Ojala et al. 2002) of `grey`, L1-normalised.
// OpenCV has no LBP descriptor (only the face module's recogniser uses one internally), so it
// is computed here: neighbour p is set when it is at least the centre; a code is uniform when
// its circular bit string has at most two 0/1 transitions.
std::vector<float> uniform_lbp_histogram(const cv::Mat1b & grey);

// The HSV colour histogram of `rgb` (R, G, B order), kHsvBins per channel, L1-normalised.
std::vector<float> hsv_histogram(const cv::Mat3b & rgb);

// Both, concatenated (kFeatureSize values), on `rgb` reduced to kModalitySide on its shorter side.
std::vector<float> modality_features(const cv::Mat3b & rgb);

struct ModalityReference {
    std::size_t label = 0;  // index into ModalityLibrary::classes
    std::string path;       // the image it was computed from, as given
    std::vector<float> features;
};

struct ModalityDecision {
    std::string label;
    double distance = 0;    // to the nearest reference of the chosen class
    // (d_other − d_chosen) / d_other, d_other the nearest reference of any other class: 0 when
    // another class is as near, towards 1 when the chosen class is much nearer; 1 with one class.
    double margin = 0;
    std::vector<std::string> neighbours;  // the k nearest references' paths, nearest first
};

class ModalityLibrary {
public:
    // Adds every image under `folder` (recursively; .jpg .jpeg .png .tif .tiff .bmp .webp)
    // as a reference of class `label`, files in sorted order. Throws Error(InvalidInput) when
    // the folder does not exist or holds no image, or an image cannot be read.
    void add_folder(const std::string & label, const std::filesystem::path & folder);
    void add(const std::string & label, const std::string & path, std::vector<float> features);

    // The k nearest references' majority (a tie goes to the class whose tied references are
    // nearer). Throws Error(InvalidArgument) when k is 0 or exceeds the references, and
    // Error(InvalidInput) when the library is empty.
    ModalityDecision classify(const std::vector<float> & features, std::size_t k = 1) const;

    const std::vector<std::string> & classes() const noexcept { return classes_; }
    const std::vector<ModalityReference> & references() const noexcept { return references_; }

    // JSON: {"format": "dermlens-modality-library", "version": 1, "features": ..., "classes",
    // "references": [{"label", "path", "features"}]}. load() throws Error(InvalidInput)
    // naming the file and the field.
    void save(const std::filesystem::path & file) const;
    static ModalityLibrary load(const std::filesystem::path & file);

private:
    std::vector<std::string> classes_;
    std::vector<ModalityReference> references_;
};

// The image files under `folder`, recursively, sorted (the extensions above).
std::vector<std::filesystem::path> image_files(const std::filesystem::path & folder);

}  // namespace dermlens::quality
