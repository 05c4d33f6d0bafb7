// Skin-R1's trajectories (paper 002 appendix B) from the shipped knowledge base: the authors'
// taxonomy sentence, the three types, the format reward on every response, the type-3 image.
#include "rewards/trajectory.h"

#include "dermlens/rewards.h"
#include "support/shipped_kb.h"

#include <gtest/gtest.h>

namespace dermlens::rewards {
namespace {

using test::shipped_kb;

std::vector<Case> cases() {
    return {{"mel1.jpg", "melanoma"}, {"mel2.jpg", "melanoma"}, {"sk1.jpg", "seborrheic_keratosis"},
            {"bcc1.jpg", "basal_cell_carcinoma"}, {"ak1.jpg", "actinic_keratosis"}};
}

TEST(Trajectory, TaxonomySentenceAsTheAuthorsWriteIt) {
    EXPECT_EQ(taxonomy_sentence(shipped_kb(), "superficial_spreading_melanoma"),
              "Superficial spreading melanoma is a subtype of melanoma, malignant melanocytic lesion, and melanocytic "
              "lesion, and is generally classified as malignant.");
    EXPECT_EQ(taxonomy_sentence(shipped_kb(), "vascular_lesion"), "Vascular lesion is generally classified as benign.");
    EXPECT_EQ(taxonomy_sentence(shipped_kb(), "actinic_keratosis").substr(0, 51),
              "Actinic keratosis is a subtype of actinic keratosis");
    EXPECT_NE(taxonomy_sentence(shipped_kb(), "actinic_keratosis").find("classified as precancerous (in situ)."),
              std::string::npos);
}

TEST(Trajectory, ThreeTypesEachPassingTheFormatReward) {
    const auto trajectories = synthesize_trajectories(shipped_kb(), cases(), {});
    SkinR1Params sft;
    sft.answer_tag = "diagnosis";
    std::map<int, int> per_type;
    for (const auto & t : trajectories) {
        ++per_type[t.type];
        EXPECT_EQ(skinr1_format(t.response, sft), 1.0) << t.response;
        // The image shown is always the final diagnosis's own case.
        EXPECT_EQ(cases()[t.case_index].condition, t.final_diagnosis);
        EXPECT_NE(t.response.find("<diagnosis>" + shipped_kb().condition(t.final_diagnosis).name), std::string::npos);
        if (t.type == 2) {
            EXPECT_EQ(t.primary, t.final_diagnosis);
        }
        if (t.type == 3) {
            EXPECT_EQ(t.differential, t.final_diagnosis);
            EXPECT_NE(t.primary, t.final_diagnosis);
            EXPECT_NE(t.response.find("better fit " + shipped_kb().condition(t.final_diagnosis).name + " than"),
                      std::string::npos);
        }
    }
    EXPECT_EQ(per_type[1], 5);
    EXPECT_EQ(per_type[2], 5);
    EXPECT_EQ(per_type[3], 5);
    EXPECT_EQ(trajectories.front().response.rfind("<thinking>", 0), 0u);
}

TEST(Trajectory, TheCapPerDiagnosisAndDeterminism) {
    TrajectoryParams params;
    params.max_differential_per_diagnosis = 1;
    params.seed = 5;
    const auto a = synthesize_trajectories(shipped_kb(), cases(), params);
    EXPECT_EQ(a.size(), 5u + 2 * 4u);  // melanoma's two cases share one type-2/3 pair
    const auto b = synthesize_trajectories(shipped_kb(), cases(), params);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].response, b[i].response);
        EXPECT_EQ(a[i].case_index, b[i].case_index);
    }
    // One diagnosis alone has no differential among the cases: type 1 only.
    EXPECT_EQ(synthesize_trajectories(shipped_kb(), {{"m.jpg", "melanoma"}}, {}).size(), 1u);
}

TEST(Trajectory, AVlmWritesTheImageSpecificTextWithoutTags) {
    std::vector<std::string> asked;
    const ImageTextGenerator vlm = [&](const std::string & prompt, const std::filesystem::path & image) {
        asked.push_back(image.string() + ": " + prompt);
        return std::string("A <b>dark</b> asymmetric plaque.");
    };
    const auto trajectories = synthesize_trajectories(shipped_kb(), {{"mel1.jpg", "melanoma"}, {"sk1.jpg", "seborrheic_keratosis"}}, {}, &vlm);
    SkinR1Params sft;
    sft.answer_tag = "diagnosis";
    for (const auto & t : trajectories) {
        EXPECT_NE(t.response.find("A bdark/b asymmetric plaque."), std::string::npos) << t.response;
        EXPECT_EQ(skinr1_format(t.response, sft), 1.0);
    }
    ASSERT_FALSE(asked.empty());
    EXPECT_EQ(asked.front().rfind("mel1.jpg: ", 0), 0u);
}

}  // namespace
}  // namespace dermlens::rewards
