// Skin-R1's reward (paper 002 eqs. 5-8) on hand-computed values over the shipped knowledge base:
// superficial spreading melanoma lies at depth 4 (melanocytic lesion 1, malignant melanocytic
// lesion 2, melanoma 3), so under eq. 7 melanoma scores 0.75 * 3/4 = 0.5625 and malignant
// melanocytic lesion 0.75 * 2/4 = 0.375.
#include "dermlens/rewards.h"
#include "support/shipped_kb.h"
#include "support/expect_error.h"

#include <gtest/gtest.h>

#include <random>

namespace dermlens::rewards {
namespace {

using test::shipped_kb;

const std::vector<std::string> kOptions{"melanoma", "malignant_melanocytic_lesion", "seborrheic_keratosis",
                                        "basal_cell_carcinoma"};

nlohmann::json melanoma_item(GranNormalise normalise = GranNormalise::Path) {
    return skinr1_item(shipped_kb(), "superficial_spreading_melanoma", kOptions, normalise);
}

std::string reply(const std::string & answer, const std::string & thinking = "Irregular network, several colours.") {
    return "<thinking>" + thinking + "</thinking> <final diagnosis>" + answer + "</final diagnosis>";
}

RewardScore scored(const std::string & completion, const SkinR1Params & params = {}) {
    return score_skinr1(shipped_kb(), completion, melanoma_item(), params);
}

TEST(SkinR1Item, StoresEq7ScoresTheCorrectLetterAndTheMalignancy) {
    const auto item = melanoma_item();
    EXPECT_EQ(item["option_scores"], (std::vector<double>{0.5625, 0.375, 0.0, 0.0}));
    EXPECT_EQ(item["correct"], "A");
    EXPECT_EQ(item["malignancy"], "malignant");
    EXPECT_EQ(item["option_names"][1], "malignant melanocytic lesion");
}

TEST(SkinR1Item, OptionsNormalisationScoresTheDeepestOfferedOptionAt075) {
    EXPECT_EQ(melanoma_item(GranNormalise::Options)["option_scores"], (std::vector<double>{0.75, 0.5, 0.0, 0.0}));
}

TEST(SkinR1Item, EveryDepthOfThePath) {
    const std::vector<std::string> path{"superficial_spreading_melanoma", "melanoma", "malignant_melanocytic_lesion",
                                        "melanocytic_lesion"};
    const auto scores = option_gran_scores(shipped_kb(), "superficial_spreading_melanoma", path, GranNormalise::Path);
    EXPECT_EQ(scores, (std::vector<double>{0.75, 0.5625, 0.375, 0.1875}));
    EXPECT_EQ(option_gran_scores(shipped_kb(), "superficial_spreading_melanoma", {"skin_condition", "melanoma"},
                                 GranNormalise::Path),
              (std::vector<double>{0.0, 0.5625}));  // the root is no diagnosis
}

TEST(SkinR1Reward, AWellFormedCorrectAnswerSumsAllThreeParts) {
    const auto score = scored(reply("A: melanoma, malignant"));
    EXPECT_DOUBLE_EQ(score.parts.at("format"), 1.0);
    EXPECT_DOUBLE_EQ(score.parts.at("gran"), 0.5625);
    EXPECT_DOUBLE_EQ(score.parts.at("malignancy"), 0.25);
    EXPECT_DOUBLE_EQ(score.score, 1.8125);
    EXPECT_EQ(score.detail["choice"], "A");
    EXPECT_EQ(score.detail["choice_status"], "letter");
    EXPECT_EQ(to_json(score)["score"], 1.8125);
}

TEST(SkinR1Reward, EachTagStructureFailureLosesTheFormatPoint) {
    const std::string answer = "<final diagnosis>B, malignant</final diagnosis>";
    for (const std::string & completion : {
             "Sure. <thinking>x</thinking> " + answer,                     // text before
             "<thinking>x</thinking> " + answer + " Hope this helps.",     // text after
             "<thinking>x " + answer,                                      // no </thinking>
             "x</thinking> " + answer,                                     // no <thinking>
             answer + " <thinking>x</thinking>",                           // wrong order
             "<thinking>x</thinking> done " + answer,                      // text between the blocks
             std::string("<thinking>x</thinking> <final diagnosis>B, malignant"),  // answer not closed
         }) {
        const auto score = scored(completion);
        EXPECT_EQ(score.parts.at("format"), 0.0) << completion;
    }
    // The answer block alone still earns its parts when it is whole.
    EXPECT_DOUBLE_EQ(scored(answer + " <thinking>x</thinking>").score, 0.375 + 0.25);
    // Another answer tag (the SFT one) is no <final diagnosis>: nothing is read.
    const auto sft = scored("<thinking>x</thinking> <diagnosis>A, malignant</diagnosis>");
    EXPECT_EQ(sft.score, 0.0);
    EXPECT_FALSE(sft.problem.empty());
}

TEST(SkinR1Reward, TagsInAnyCaseAndSurroundingSpaceAreWellFormed) {
    const auto score = scored("  \n<THINKING>a\nb</Thinking>\n\n<Final Diagnosis>B: malignant melanocytic lesion, malignant"
                              "</FINAL DIAGNOSIS>\n");
    EXPECT_DOUBLE_EQ(score.score, 1 + 0.375 + 0.25);
}

TEST(SkinR1Reward, PresentRuleAcceptsTheTagsInAnyOrder) {
    SkinR1Params present;
    present.format_rule = FormatRule::Present;
    EXPECT_EQ(skinr1_format("<final diagnosis>A</final diagnosis> <thinking>x</thinking>", present), 1.0);
    EXPECT_EQ(skinr1_format("<final diagnosis>A</final diagnosis> <thinking>x</thinking>"), 0.0);
    EXPECT_EQ(skinr1_format("<thinking>x</thinking>", present), 0.0);
}

TEST(SkinR1Reward, SftTagsWhenAsked) {
    SkinR1Params sft;
    sft.answer_tag = "diagnosis";
    EXPECT_DOUBLE_EQ(scored("<thinking>x</thinking> <diagnosis>A, malignant</diagnosis>", sft).score, 1.8125);
}

TEST(SkinR1Letters, ReadStrictlyNeverTheFirstCapitalOfAWord) {
    const auto letter = [](const std::string & answer) { return scored(reply(answer)).detail["choice"]; };
    EXPECT_EQ(letter("B"), "B");
    EXPECT_EQ(letter("B."), "B");
    EXPECT_EQ(letter("B)"), "B");
    EXPECT_EQ(letter("B: malignant"), "B");
    EXPECT_EQ(letter("(B) malignant melanocytic lesion"), "B");
    EXPECT_EQ(letter(" C "), "C");
    // "benign" and "Benign" are a lesion condition, not option B; "Both" is no letter either.
    EXPECT_TRUE(letter("benign").is_null());
    EXPECT_TRUE(letter("Benign lesion").is_null());
    EXPECT_TRUE(letter("Both are possible").is_null());
    EXPECT_TRUE(letter("E").is_null());      // out of range: four options
    EXPECT_TRUE(letter("A or B").is_null());  // two options
    EXPECT_TRUE(letter("A: seborrheic keratosis").is_null());  // a letter contradicting the named option
}

TEST(SkinR1Letters, OptionTextAndKnowledgeBaseSynonyms) {
    const auto by_name = scored(reply("melanoma, malignant"));
    EXPECT_EQ(by_name.detail["choice"], "A");
    EXPECT_EQ(by_name.detail["choice_status"], "label_name");
    const auto synonym = scored(reply("Basal cell epithelioma, malignant"));
    EXPECT_EQ(synonym.detail["choice"], "D");
    EXPECT_EQ(synonym.detail["choice_status"], "synonym");
    EXPECT_DOUBLE_EQ(synonym.score, 1.0 + 0.0 + 0.25);
}

TEST(SkinR1Malignancy, EachClassAgainstItsTruth) {
    const auto & kb = shipped_kb();
    struct Case {
        std::string truth;
        std::string answer;
        double expected;
    };
    const std::vector<Case> cases{
        {"seborrheic_keratosis", "A, benign", 0.25},
        {"seborrheic_keratosis", "A, malignant", 0.0},
        {"actinic_keratosis", "A, precancerous in situ", 0.25},
        {"actinic_keratosis", "A, Precancerous", 0.25},
        {"actinic_keratosis", "A, benign", 0.0},
        {"melanoma", "A, malignant", 0.25},
        {"melanoma", "A, premalignant", 0.0},             // not the whole word
        {"melanoma", "A, malignant or benign", 0.25},     // the first class named counts
        {"melanoma", "A", 0.0},                           // none named
    };
    for (const auto & c : cases) {
        const auto item = skinr1_item(kb, c.truth, {c.truth, "dermatofibroma"});
        const auto score = score_skinr1(kb, reply(c.answer), item);
        EXPECT_DOUBLE_EQ(score.parts.at("malignancy"), c.expected) << c.truth << " / " << c.answer;
    }
}

TEST(SkinR1Reward, TotalStaysInZeroToTwoForAnyCompletion) {
    const std::vector<std::string> pieces{"<thinking>", "</thinking>", "<final diagnosis>", "</final diagnosis>", "A",
                                          "B:", "(C)", "D.", "benign", "malignant", "precancerous", "melanoma", " ", "\n",
                                          "<diagnosis>", "xyz", "basal cell carcinoma"};
    std::mt19937_64 rng(7);
    for (int trial = 0; trial < 2000; ++trial) {
        std::string completion;
        for (std::size_t n = rng() % 12; n > 0; --n) {
            completion += pieces[rng() % pieces.size()];
        }
        for (const auto normalise : {GranNormalise::Path, GranNormalise::Options}) {
            const auto score = score_skinr1(shipped_kb(), completion, melanoma_item(normalise));
            ASSERT_GE(score.score, 0.0) << completion;
            ASSERT_LE(score.score, 2.0) << completion;
        }
    }
}

TEST(SkinR1Item, BadItemsAreRefusedNamingTheField) {
    auto item = melanoma_item();
    item["option_scores"] = {0.5, 0.0};
    test::expect_error([&] { score_skinr1(shipped_kb(), "x", item); }, ErrorKind::InvalidArgument,
                       {"option_scores"});
    item = melanoma_item();
    item["option_scores"][0] = 0.9;
    test::expect_error([&] { score_skinr1(shipped_kb(), "x", item); }, ErrorKind::InvalidArgument, {"0.75"});
    item = melanoma_item();
    item["malignancy"] = "harmless";
    test::expect_error([&] { score_skinr1(shipped_kb(), "x", item); }, ErrorKind::InvalidArgument, {"malignancy"});
    test::expect_error([&] { score_skinr1(shipped_kb(), "x", nlohmann::json(42)); }, ErrorKind::InvalidArgument,
                       {"item"});
    test::expect_error([&] { skinr1_item(shipped_kb(), "skin_condition", {"melanoma", "dermatofibroma"}); },
                       ErrorKind::InvalidArgument, {"root"});
    SkinR1Params bad;
    bad.answer_tag = "<x>";
    test::expect_error([&] { skinr1_format("x", bad); }, ErrorKind::InvalidArgument, {"answer_tag"});
}

TEST(SkinR1Item, AJsonStringItemReadsAsTheObject) {
    const auto as_string = nlohmann::json(melanoma_item().dump());
    EXPECT_DOUBLE_EQ(score_skinr1(shipped_kb(), reply("A, malignant"), as_string).score, 1.8125);
    EXPECT_DOUBLE_EQ(score(shipped_kb(), "skinr1", reply("A, malignant"), as_string).score, 1.8125);
}

}  // namespace
}  // namespace dermlens::rewards
