#include "quality/modality.h"

#include "common/atomic_file.h"
#include "dermlens/error.h"
#include "grounding/lesion_mask.h"
#include "image/image.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>

namespace dermlens::quality {
namespace {

// Histogram bin of each 8-bit LBP code: uniform codes (at most two circular 0/1 transitions)
// get bins 0..57 in code order, every other code bin 58.
std::array<int, 256> uniform_bins() {
    std::array<int, 256> bins{};
    int next = 0;
    for (int code = 0; code < 256; ++code) {
        const auto rotated = static_cast<std::uint8_t>((code >> 1) | ((code & 1) << 7));
        const int transitions = std::popcount(static_cast<unsigned>(code ^ rotated));
        bins[code] = transitions <= 2 ? next++ : kLbpBins - 1;
    }
    return bins;
}

void normalise_l1(std::vector<float> & values, std::size_t first, std::size_t count) {
    double sum = 0.0;
    for (std::size_t i = first; i < first + count; ++i) sum += values[i];
    if (sum <= 0.0) return;
    for (std::size_t i = first; i < first + count; ++i) values[i] = static_cast<float>(values[i] / sum);
}

cv::Mat3b reduced_to_side(const cv::Mat3b & rgb, int side) {
    const double scale = static_cast<double>(side) / std::min(rgb.cols, rgb.rows);
    if (scale >= 1.0) return rgb;
    cv::Mat3b small;
    cv::resize(rgb, small, {}, scale, scale, cv::INTER_AREA);
    return small;
}

}  // namespace

std::vector<float> uniform_lbp_histogram(const cv::Mat1b & grey) {
    static const std::array<int, 256> bins = uniform_bins();
    // Neighbours in circular order, starting east, counter-clockwise (R = 1, the square's pixels).
    static const std::array<cv::Point, 8> offsets{{{1, 0}, {1, -1}, {0, -1}, {-1, -1}, {-1, 0}, {-1, 1}, {0, 1}, {1, 1}}};
    std::vector<float> histogram(kLbpBins, 0.0f);
    for (int y = 1; y + 1 < grey.rows; ++y) {
        for (int x = 1; x + 1 < grey.cols; ++x) {
            const std::uint8_t centre = grey(y, x);
            int code = 0;
            for (std::size_t p = 0; p < offsets.size(); ++p) {
                if (grey(y + offsets[p].y, x + offsets[p].x) >= centre) code |= 1 << p;
            }
            histogram[static_cast<std::size_t>(bins[code])] += 1.0f;
        }
    }
    normalise_l1(histogram, 0, histogram.size());
    return histogram;
}

std::vector<float> hsv_histogram(const cv::Mat3b & rgb) {
    cv::Mat3b hsv;
    cv::cvtColor(rgb, hsv, cv::COLOR_RGB2HSV);  // H in 0..179, S and V in 0..255
    std::vector<float> histogram(kHsvBins * kHsvBins * kHsvBins, 0.0f);
    for (const cv::Vec3b & pixel : cv::Mat_<cv::Vec3b>(hsv)) {
        const int h = pixel[0] * kHsvBins / 180;
        const int s = pixel[1] * kHsvBins / 256;
        const int v = pixel[2] * kHsvBins / 256;
        histogram[static_cast<std::size_t>((h * kHsvBins + s) * kHsvBins + v)] += 1.0f;
    }
    normalise_l1(histogram, 0, histogram.size());
    return histogram;
}

std::vector<float> modality_features(const cv::Mat3b & rgb) {
    if (rgb.empty()) throw Error(ErrorKind::InvalidArgument, "modality features: the image is empty");
    const cv::Mat3b small = reduced_to_side(rgb, kModalitySide);
    std::vector<float> features = hsv_histogram(small);
    cv::Mat1b grey;
    cv::cvtColor(small, grey, cv::COLOR_RGB2GRAY);
    const std::vector<float> lbp = uniform_lbp_histogram(grey);
    features.insert(features.end(), lbp.begin(), lbp.end());
    return features;
}

std::vector<std::filesystem::path> image_files(const std::filesystem::path & folder) {
    static const std::array<std::string, 7> extensions{".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"};
    std::error_code error;
    if (!std::filesystem::is_directory(folder, error)) {
        throw Error(ErrorKind::InvalidInput, fmt::format("folder '{}': no such folder", folder.string()));
    }
    std::vector<std::filesystem::path> files;
    for (const auto & entry : std::filesystem::recursive_directory_iterator(folder)) {
        std::string extension = entry.path().extension().string();
        std::transform(extension.begin(), extension.end(), extension.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (entry.is_regular_file() && std::find(extensions.begin(), extensions.end(), extension) != extensions.end()) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

void ModalityLibrary::add(const std::string & label, const std::string & path, std::vector<float> features) {
    if (label.empty()) throw Error(ErrorKind::InvalidArgument, "modality library: a class name is empty");
    if (features.size() != static_cast<std::size_t>(kFeatureSize)) {
        throw Error(ErrorKind::InvalidInput, fmt::format("modality library: '{}' has {} features, not {}", path,
                                                         features.size(), kFeatureSize));
    }
    auto known = std::find(classes_.begin(), classes_.end(), label);
    if (known == classes_.end()) known = classes_.insert(classes_.end(), label);
    references_.push_back({static_cast<std::size_t>(known - classes_.begin()), path, std::move(features)});
}

void ModalityLibrary::add_folder(const std::string & label, const std::filesystem::path & folder) {
    const auto files = image_files(folder);
    if (files.empty()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("folder '{}' (class {}): no image files", folder.string(), label));
    }
    for (const auto & file : files) {
        add(label, file.string(), modality_features(grounding::to_rgb_mat(image::load_image(file))));
    }
}

ModalityDecision ModalityLibrary::classify(const std::vector<float> & features, std::size_t k) const {
    if (references_.empty()) throw Error(ErrorKind::InvalidInput, "modality library: no references");
    if (k == 0 || k > references_.size()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("k {}: must be 1 to the library's {} references", k, references_.size()), "k");
    }
    if (features.size() != static_cast<std::size_t>(kFeatureSize)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("modality features: {} values, not {}", features.size(), kFeatureSize));
    }
    std::vector<std::pair<double, std::size_t>> ranked;  // distance, reference
    ranked.reserve(references_.size());
    const cv::Mat query(1, kFeatureSize, CV_32F, const_cast<float *>(features.data()));
    for (std::size_t i = 0; i < references_.size(); ++i) {
        const cv::Mat reference(1, kFeatureSize, CV_32F, const_cast<float *>(references_[i].features.data()));
        ranked.emplace_back(cv::norm(query, reference, cv::NORM_L2), i);
    }
    std::sort(ranked.begin(), ranked.end());
    // Majority of the k nearest; a tie goes to the class whose votes lie nearer in sum.
    std::map<std::size_t, std::pair<int, double>> votes;  // class -> count, summed distance
    for (std::size_t i = 0; i < k; ++i) {
        auto & vote = votes[references_[ranked[i].second].label];
        ++vote.first;
        vote.second += ranked[i].first;
    }
    const auto chosen = std::max_element(votes.begin(), votes.end(), [](const auto & a, const auto & b) {
        return a.second.first != b.second.first ? a.second.first < b.second.first : a.second.second > b.second.second;
    })->first;
    ModalityDecision decision;
    decision.label = classes_[chosen];
    std::optional<double> nearest_chosen;
    std::optional<double> nearest_other;
    for (const auto & [distance, index] : ranked) {
        auto & slot = references_[index].label == chosen ? nearest_chosen : nearest_other;
        if (!slot) slot = distance;
        if (nearest_chosen && nearest_other) break;
    }
    decision.distance = nearest_chosen.value_or(0.0);
    decision.margin = !nearest_other || *nearest_other <= 0.0
                          ? 1.0
                          : std::max(0.0, (*nearest_other - decision.distance) / *nearest_other);
    for (std::size_t i = 0; i < k; ++i) decision.neighbours.push_back(references_[ranked[i].second].path);
    return decision;
}

namespace {

constexpr const char * kFormat = "dermlens-modality-library";
constexpr const char * kFeatures = "hsv-8x8x8-l1 + lbp-uniform-p8-r1-59-l1, shorter side 256";

}  // namespace

void ModalityLibrary::save(const std::filesystem::path & file) const {
    nlohmann::ordered_json references = nlohmann::ordered_json::array();
    for (const auto & reference : references_) {
        references.push_back({{"label", classes_[reference.label]}, {"path", reference.path}, {"features", reference.features}});
    }
    const nlohmann::ordered_json document = {{"format", kFormat},     {"version", 1},
                                             {"features", kFeatures}, {"classes", classes_},
                                             {"references", std::move(references)}};
    write_file_atomically(file, document.dump() + "\n", "modality library");
}

ModalityLibrary ModalityLibrary::load(const std::filesystem::path & file) {
    const auto fail = [&file](const std::string & field, const std::string & why) {
        return Error(ErrorKind::InvalidInput, fmt::format("modality library '{}': {}: {}", file.string(), field, why));
    };
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::InvalidInput, fmt::format("modality library '{}': cannot be read", file.string()));
    const auto document = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded() || !document.is_object()) throw fail("the file", "not a JSON object");
    if (document.value("format", "") != kFormat) throw fail("format", fmt::format("must be \"{}\"", kFormat));
    if (document.value("version", 0) != 1) throw fail("version", "only version 1 is known");
    if (document.value("features", "") != kFeatures) throw fail("features", fmt::format("must be \"{}\"", kFeatures));
    const auto references = document.find("references");
    if (references == document.end() || !references->is_array()) throw fail("references", "an array is required");
    ModalityLibrary library;
    for (std::size_t i = 0; i < references->size(); ++i) {
        const auto & entry = (*references)[i];
        const std::string where = fmt::format("references[{}]", i);
        if (!entry.is_object() || !entry.contains("label") || !entry["label"].is_string() || !entry.contains("path") ||
            !entry["path"].is_string() || !entry.contains("features") || !entry["features"].is_array()) {
            throw fail(where, "needs a label, a path (strings) and features (numbers)");
        }
        std::vector<float> features;
        for (const auto & value : entry["features"]) {
            if (!value.is_number() || !std::isfinite(value.get<double>())) throw fail(where + ".features", "a value is not a finite number");
            features.push_back(value.get<float>());
        }
        try {
            library.add(entry["label"].get<std::string>(), entry["path"].get<std::string>(), std::move(features));
        } catch (const Error & e) {
            throw fail(where, e.what());
        }
    }
    return library;
}

}  // namespace dermlens::quality
