// SkinFlow's positional top-K reward (paper 003 eqs. 7-8) with the shipped weights
// w = 1, 5/6, 4/6, 3/6, 2/6, 1/6 and the knowledge base's clinical grading, truth melanoma.
#include "dermlens/rewards.h"
#include "support/shipped_kb.h"
#include "support/expect_error.h"

#include <gtest/gtest.h>

namespace dermlens::rewards {
namespace {

using test::shipped_kb;

std::string answer(const std::vector<std::string> & diseases) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto & d : diseases) {
        list.push_back({{"disease", d}, {"probability", 0.5}, {"key_matching_fields", {"color"}}, {"brief_reason", "r"}});
    }
    return "<think>Pigmented plaque.</think>\n<answer>" + nlohmann::json{{"top6_diseases", list}}.dump() + "</answer>";
}

RewardScore scored(const std::string & completion, const std::string & truth = "melanoma") {
    return score_skinflow_topk(shipped_kb(), completion, topk_item(truth));
}

TEST(TopKReward, ShippedWeightsAreOneMinusPositionOverK) {
    const auto w = default_position_weights();
    ASSERT_EQ(w.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_NEAR(w[i], 1.0 - static_cast<double>(i) / 6.0, 1e-15);
    }
}

TEST(TopKReward, TheWeightOfTheFirstCorrectPosition) {
    EXPECT_DOUBLE_EQ(scored(answer({"melanoma", "nevus"})).score, 1.0);
    const auto third = scored(answer({"dermatofibroma", "basal cell carcinoma", "melanoma", "melanoma"}));
    EXPECT_DOUBLE_EQ(third.score, 4.0 / 6.0);
    EXPECT_EQ(third.detail["first_correct"], 3);
    EXPECT_EQ(third.detail["grades"], (nlohmann::json{"unrelated", "unrelated", "exact"}));
    EXPECT_DOUBLE_EQ(scored(answer({"dermatofibroma", "dermatofibroma", "dermatofibroma", "dermatofibroma",
                                    "dermatofibroma", "melanoma"})).score,
                     1.0 / 6.0);
    EXPECT_EQ(scored(answer({"dermatofibroma", "seborrheic keratosis"})).score, 0.0);
}

TEST(TopKReward, ClinicalGradesCountAsTheGraderSays) {
    EXPECT_DOUBLE_EQ(scored(answer({"dermatofibroma", "malignant melanoma"})).score, 5.0 / 6.0);   // synonym
    EXPECT_DOUBLE_EQ(scored(answer({"superficial spreading melanoma"})).score, 1.0);                // subclass
    EXPECT_DOUBLE_EQ(scored(answer({"malignant melanocytic lesion"})).score, 1.0);                  // close parent
    EXPECT_EQ(scored(answer({"melanocytic lesion"})).score, 0.0);                                   // too broad a parent
    const auto broad = scored(answer({"melanocytic lesion"}));
    EXPECT_EQ(broad.detail["grades"][0], "unacceptable_parent");
}

TEST(TopKReward, DuplicatesKeepTheirSlotAndOnlyTheFirstKCount) {
    // basal cell carcinoma named twice (once by its abbreviation): melanoma stays third.
    EXPECT_DOUBLE_EQ(scored(answer({"basal cell carcinoma", "BCC", "melanoma"})).score, 4.0 / 6.0);
    EXPECT_EQ(scored(answer({"a", "b", "c", "d", "e", "f", "melanoma"})).score, 0.0);
}

TEST(TopKReward, MalformedOutputScoresZero) {
    for (const std::string & completion : {
             std::string("melanoma"),
             std::string("<answer>{\"top6_diseases\": [{\"disease\": \"melanoma\"}]"),  // cut off: no </answer>
             std::string("<answer>{\"top6_diseases\": [{\"disease\": \"melanoma\"</answer>"),  // broken JSON
             std::string("<answer>[\"melanoma\"]</answer>"),                               // not an object
             std::string("<answer>{\"top6_diseases\": []}</answer>"),                      // no list entries
             std::string("<answer>{\"top6_diseases\": [{\"name\": \"melanoma\"}]}</answer>"),  // no "disease"
             std::string(""),
         }) {
        const auto score = scored(completion);
        EXPECT_EQ(score.score, 0.0) << completion;
    }
    EXPECT_FALSE(scored("melanoma").problem.empty());
}

TEST(TopKReward, NonIncreasingInThePositionOfTheFirstCorrectAnswer) {
    double previous = 2;
    for (std::size_t position = 0; position < 8; ++position) {
        std::vector<std::string> names(8, "dermatofibroma");
        names[position] = "melanoma";
        const double reward = scored(answer(names)).score;
        EXPECT_LE(reward, previous) << position;
        if (position < 6) {
            EXPECT_LT(reward, previous);
        }
        previous = reward;
    }
}

TEST(TopKReward, LabelSetTruthAndOwnWeights) {
    const auto item = topk_item("pigmented_benign_keratosis", "isic9class");
    EXPECT_DOUBLE_EQ(score_skinflow_topk(shipped_kb(), answer({"melanoma", "benign pigmented keratosis"}), item).score,
                     5.0 / 6.0);
    TopKParams params;
    params.position_weights = {1.0, 0.5};
    EXPECT_DOUBLE_EQ(score_skinflow_topk(shipped_kb(), answer({"x", "melanoma"}), topk_item("melanoma"), params).score, 0.5);
    EXPECT_EQ(score_skinflow_topk(shipped_kb(), answer({"x", "y", "melanoma"}), topk_item("melanoma"), params).score, 0.0);
    params.position_weights = {0.5, 0.6};
    test::expect_error([&] { params.validate(); }, ErrorKind::InvalidArgument, {"position_weights", "decreasing"});
    test::expect_error([&] { scored("x", "no such disease at all"); }, ErrorKind::InvalidArgument, {"item.truth"});
}

}  // namespace
}  // namespace dermlens::rewards
