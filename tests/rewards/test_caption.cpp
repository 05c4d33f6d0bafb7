// SkinFlow's caption reward (paper 003 eq. 6) with the shipped equal weights: hand-computed
// judge-free matching and a stand-in judge, each empty-field rule.
#include "dermlens/rewards.h"
#include "rewards/caption_weights.h"
#include "support/expect_error.h"

#include <gtest/gtest.h>

namespace dermlens::rewards {
namespace {

const nlohmann::json kReference = {{"color", "brown and black"}, {"location", "back"}, {"shape", "irregular"}};

std::string caption(const nlohmann::json & fields) {
    return fields.dump();
}

// color: {black, brown} = {brown, black}: 10; location empty in the prediction: 0; shape
// {round} vs {irregular}: 0; size only in the prediction: 5; the other 8 fields are empty in
// both and skipped. Equal weights: (10 + 0 + 0 + 5) / 4.
const nlohmann::json kPrediction = {{"color", "Black, brown"}, {"location", ""}, {"shape", "round"}, {"size", "6 mm"}};

TEST(CaptionReward, JudgeFreeMatchingByHand) {
    const auto score = score_skinflow_caption(caption(kPrediction), caption_item(kReference));
    EXPECT_DOUBLE_EQ(score.score, 3.75);
    EXPECT_DOUBLE_EQ(score.detail["unit"].get<double>(), 0.375);
    EXPECT_EQ(score.parts, (std::map<std::string, double>{{"color", 10}, {"location", 0}, {"shape", 0}, {"size", 5}}));
    EXPECT_EQ(score.detail["skipped"].size(), 8u);
    EXPECT_EQ(score.detail["judge"], "matching");
}

TEST(CaptionReward, PartialOverlapIsTheF1OfContentWords) {
    // {pink, papule} vs {pink, papules, scattered}: papules -> papule; F1 = 2*2/(2+3) = 0.8.
    const auto score = score_skinflow_caption(caption({{"lesion_type", "pink papule"}}),
                                              caption_item({{"lesion_type", "Scattered pink papules"}}));
    EXPECT_DOUBLE_EQ(score.score, 8.0);
}

TEST(CaptionReward, AJudgeScoresTheFieldsFilledOnBothSides) {
    int calls = 0;
    const TextGenerator judge = [&](const std::string & prompt, const std::string & grammar) {
        ++calls;
        EXPECT_NE(prompt.find("\"color\":\"brown and black\""), std::string::npos) << prompt;
        EXPECT_NE(grammar.find("root"), std::string::npos);
        nlohmann::json reply;
        for (const auto * field : {"color", "location", "shape", "lesion_type", "number", "size", "texture",
                                   "border_characteristics", "surface_characteristics", "distribution_characteristics",
                                   "surrounding_characteristics", "other"}) {
            reply[field] = 7;
        }
        return reply.dump();
    };
    const auto score = score_skinflow_caption(caption(kPrediction), caption_item(kReference), {}, &judge);
    EXPECT_EQ(calls, 1);
    EXPECT_DOUBLE_EQ(score.score, (7 + 0 + 7 + 5) / 4.0);
    EXPECT_EQ(score.detail["judge"], "model");
    CaptionParams binarised;
    binarised.binarise = true;  // 7 >= 6 -> 10; the neutral 5 -> 0
    EXPECT_DOUBLE_EQ(score_skinflow_caption(caption(kPrediction), caption_item(kReference), binarised, &judge).score,
                     (10 + 0 + 10 + 0) / 4.0);
    const TextGenerator broken = [](const std::string &, const std::string &) { return std::string("{\"color\": 11}"); };
    test::expect_error([&] { score_skinflow_caption(caption(kPrediction), caption_item(kReference), {}, &broken); },
                       ErrorKind::Runtime, {"caption judge"});
}

TEST(CaptionReward, EmptyFieldRulesAndOwnWeights) {
    CaptionParams params;
    params.weights = {{"color", 0.5}, {"size", 0.5}};
    params.reference_empty_score = 2;
    // color 10 (weight .5), size 2 (weight .5); location and shape have no weight.
    EXPECT_DOUBLE_EQ(score_skinflow_caption(caption(kPrediction), caption_item(kReference), params).score, 6.0);
    // Nothing filled in the prediction: each reference field scores 0.
    EXPECT_EQ(score_skinflow_caption(caption(nlohmann::json::object()), caption_item(kReference)).score, 0.0);
    params.weights = {{"colour", 1.0}};
    test::expect_error([&] { params.validate(); }, ErrorKind::InvalidArgument, {"colour"});
    params.weights = {{"color", 0.5}};
    test::expect_error([&] { params.validate(); }, ErrorKind::InvalidArgument, {"sum"});
}

TEST(CaptionReward, MalformedCaptionsScoreZeroAndBadItemsAreRefused) {
    for (const std::string & completion : {std::string("brown"), std::string("[\"brown\"]"),
                                           std::string("{\"color\": 3}"), std::string("{\"color\": \"brown\"")}) {
        const auto score = score_skinflow_caption(completion, caption_item(kReference));
        EXPECT_EQ(score.score, 0.0) << completion;
        EXPECT_FALSE(score.problem.empty());
    }
    test::expect_error([] { caption_item({{"color", ""}}); }, ErrorKind::InvalidArgument, {"empty"});
    test::expect_error([] { caption_item({{"color", 1}}); }, ErrorKind::InvalidArgument, {"reference"});
    test::expect_error([] { score_skinflow_caption("{}", nlohmann::json{{"task", "caption"}}); },
                       ErrorKind::InvalidArgument, {"item.reference"});
}

TEST(CaptionWeights, CitationCountsPlusOneNormalised) {
    const std::string answer = R"(<answer>{"top6_diseases": [{"disease": "a", "key_matching_fields": ["color", "shape"]},
        {"disease": "b", "key_matching_fields": ["color", "colour"]}]}</answer>)";
    const auto citations = caption_weights_from_topk({answer, "no answer"});
    EXPECT_EQ(citations.answers, 1u);
    EXPECT_EQ(citations.counts.at("color"), 2u);
    // 3 citations of schema fields ("colour" is none) + 12: color (2+1)/15, shape 2/15, the others 1/15.
    EXPECT_DOUBLE_EQ(citations.weights.at("color"), 3.0 / 15);
    EXPECT_DOUBLE_EQ(citations.weights.at("shape"), 2.0 / 15);
    EXPECT_DOUBLE_EQ(citations.weights.at("other"), 1.0 / 15);
    CaptionParams params;
    params.weights = citations.weights;
    EXPECT_NO_THROW(params.validate());
    test::expect_error([] { caption_weights_from_topk({"<answer>{}</answer>"}); }, ErrorKind::InvalidInput,
                       {"key_matching_fields"});
}

}  // namespace
}  // namespace dermlens::rewards
