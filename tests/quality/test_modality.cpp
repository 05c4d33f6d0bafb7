// MM-Skin's modality classifier (paper 001, 3.1.1; quality/modality.h): the uniform LBP
// codes, the library file, and accuracy per class on held-apart shared images: the reference
// library is built from every other image of each class, the rest are classified.
#include "dermlens/error.h"
#include "grounding/lesion_mask.h"
#include "image/image.h"
#include "quality/modality.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace dermlens;
using namespace dermlens::quality;
using dermlens::test::expect_error;
using dermlens::test::TempDir;
using dermlens::test::write_file;

const fs::path kImages = fs::path(DERMLENS_SHARED_DIR) / "data" / "images";

TEST(ModalityFeatures, UniformLbpOfKnownPatterns) {
    // A flat image: every neighbour equals the centre, code 255, a uniform pattern (the last uniform bin).
    const auto flat = uniform_lbp_histogram(cv::Mat1b(8, 8, uchar(100)));
    ASSERT_EQ(flat.size(), static_cast<std::size_t>(kLbpBins));
    EXPECT_FLOAT_EQ(flat[57], 1.0f);
    // A bright centre (the only interior pixel of a 3 x 3 image): no neighbour reaches it, code 0, bin 0.
    cv::Mat1b spot(3, 3, uchar(0));
    spot(1, 1) = 200;
    const auto one = uniform_lbp_histogram(spot);
    EXPECT_FLOAT_EQ(one[0], 1.0f);
    // A checkerboard: the centre's 4-neighbours differ, diagonals equal: 0b10101010-like, not uniform.
    cv::Mat1b board(3, 3);
    for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 3; ++x) board(y, x) = (x + y) % 2 ? 0 : 255;
    EXPECT_FLOAT_EQ(uniform_lbp_histogram(board)[kLbpBins - 1], 1.0f);
}

TEST(ModalityFeatures, HistogramsAreL1NormalisedAndConcatenated) {
    const cv::Mat3b rgb(300, 400, cv::Vec3b(200, 120, 90));
    const auto features = modality_features(rgb);
    ASSERT_EQ(features.size(), static_cast<std::size_t>(kFeatureSize));
    double colour = 0, texture = 0;
    for (int i = 0; i < kFeatureSize; ++i) (i < kFeatureSize - kLbpBins ? colour : texture) += features[i];
    EXPECT_NEAR(colour, 1.0, 1e-6);
    EXPECT_NEAR(texture, 1.0, 1e-6);
}

TEST(ModalityLibrary, KnnVotesMarginsAndTheFileRoundTrip) {
    ModalityLibrary library;
    const auto at = [](float value) {
        std::vector<float> features(kFeatureSize, 0.0f);
        features[0] = value;
        return features;
    };
    library.add("a", "a1", at(0.0f));
    library.add("a", "a2", at(0.1f));
    library.add("b", "b1", at(1.0f));
    const ModalityDecision near_a = library.classify(at(0.2f), 1);
    EXPECT_EQ(near_a.label, "a");
    EXPECT_NEAR(near_a.margin, (0.8 - 0.1) / 0.8, 1e-6);
    EXPECT_EQ(near_a.neighbours, std::vector<std::string>{"a2"});
    // k = 3 with a point nearer b: the two a's outvote the one b.
    EXPECT_EQ(library.classify(at(0.7f), 3).label, "a");
    EXPECT_EQ(library.classify(at(0.7f), 1).label, "b");
    expect_error([&] { library.classify(at(0.0f), 4); }, ErrorKind::InvalidArgument, {"k 4", "3 references"});

    TempDir dir("modality");
    library.save(dir.path() / "lib.json");
    const ModalityLibrary loaded = ModalityLibrary::load(dir.path() / "lib.json");
    EXPECT_EQ(loaded.classes(), library.classes());
    EXPECT_EQ(loaded.classify(at(0.2f), 1).neighbours, near_a.neighbours);
    write_file(dir.path() / "bad.json", R"({"format": "dermlens-modality-library", "version": 2})");
    expect_error([&] { ModalityLibrary::load(dir.path() / "bad.json"); }, ErrorKind::InvalidInput, {"bad.json", "version"});
}

struct Labelled {
    std::string modality;
    fs::path file;
};

// The shared images of each modality, in sorted order.
std::vector<Labelled> shared_images() {
    const std::vector<std::pair<std::string, fs::path>> folders = {
        {"dermoscopic", kImages / "isic9class"}, {"dermoscopic", kImages / "ham10000"},
        {"clinical", kImages / "clinical"},      {"pathology", kImages / "pathology"}};
    std::vector<Labelled> images;
    for (const auto & [modality, folder] : folders) {
        for (const auto & file : image_files(folder)) images.push_back({modality, file});
    }
    return images;
}

// Disjoint halves: per modality, even positions are references, odd ones are classified.
TEST(ModalityClassifier, AccuracyPerClassOnHeldApartSharedImages) {
    ModalityLibrary library;
    std::vector<std::pair<std::string, std::vector<float>>> held_apart;
    std::map<std::string, int> position;
    for (const Labelled & image : shared_images()) {
        auto features = modality_features(grounding::to_rgb_mat(image::load_image(image.file)));
        if (position[image.modality]++ % 2 == 0) {
            library.add(image.modality, image.file.string(), std::move(features));
        } else {
            held_apart.emplace_back(image.modality, std::move(features));
        }
    }
    for (std::size_t k : {1u, 3u}) {
        std::map<std::string, std::pair<int, int>> tally;  // modality -> correct, total
        for (const auto & [modality, features] : held_apart) {
            auto & [correct, total] = tally[modality];
            correct += library.classify(features, k).label == modality;
            ++total;
        }
        for (const auto & [modality, counts] : tally) {
            const double accuracy = static_cast<double>(counts.first) / counts.second;
            std::printf("k=%zu %-12s %d/%d = %.3f\n", k, modality.c_str(), counts.first, counts.second, accuracy);
            // The floor (docs/quality.md, "Accuracy on held-apart images"): chance is 1/3; measured,
            // each class lies at 0.79-0.94 (33 to 83 test images), so 0.75 sits about two binomial
            // standard errors below the lowest. A broken histogram or LBP drops a class towards
            // chance; MM-Skin checks by hand what the margin report lists.
            EXPECT_GE(accuracy, 0.75) << modality << " k=" << k;
        }
    }
}

}  // namespace
