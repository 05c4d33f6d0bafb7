// Free answers read back to one option, in every prompt style; what is not one option
// stays unparseable.
#include "dermlens/kb/knowledge_base.h"
#include "pipeline/answer_parse.h"

#include <gtest/gtest.h>

namespace {

using dermlens::pipeline::ChoiceStatus;
using dermlens::pipeline::PromptStyle;

const std::vector<std::string> kLabels{"melanoma", "nevus", "basal cell carcinoma", "herpes zoster", "psoriasis"};

const dermlens::kb::KnowledgeBase * shipped_kb() {
    static const auto kb = dermlens::kb::KnowledgeBase::load({dermlens::kb::KnowledgeBase::shipped_dir()});
    return &kb;
}

dermlens::pipeline::PromptTurns turns_for(PromptStyle style, bool not_sure = false) {
    dermlens::pipeline::PromptRequest request;
    request.style = style;
    request.not_sure_option = not_sure;
    for (const auto & label : kLabels) {
        request.options.push_back({label, {}});
    }
    return build_prompt(request);
}

void expect_choice(PromptStyle style, std::string_view reply, ChoiceStatus status, std::optional<std::size_t> index,
                   bool not_sure = false) {
    const auto parsed = parse_choice(reply, turns_for(style, not_sure), kLabels, style, shipped_kb());
    EXPECT_EQ(std::string(choice_status_name(parsed.status)), choice_status_name(status)) << style_name(style) << ": " << reply;
    EXPECT_EQ(parsed.index, index) << style_name(style) << ": " << reply;
    EXPECT_EQ(parsed.problem.empty(), status != ChoiceStatus::Unparseable) << parsed.problem;
}

TEST(ParseChoice, LetterAfterTheAnswerLead) {
    // The dermlens answer starts with "(": the model writes the rest.
    expect_choice(PromptStyle::Dermlens, "B)", ChoiceStatus::Letter, 1);
    expect_choice(PromptStyle::Dermlens, "D) herpes zoster", ChoiceStatus::Letter, 3);
    expect_choice(PromptStyle::Dermlens, "D) shingles", ChoiceStatus::Letter, 3);
    expect_choice(PromptStyle::Dermlens, "A) shingles", ChoiceStatus::Unparseable, std::nullopt);  // A is melanoma
    expect_choice(PromptStyle::Dermlens, "G)", ChoiceStatus::Unparseable, std::nullopt);
}

TEST(ParseChoice, LabelNamesAndSynonyms) {
    expect_choice(PromptStyle::SkinVl, "The diagnosis is psoriasis.", ChoiceStatus::LabelName, 4);
    expect_choice(PromptStyle::SkinVl, "Malignant melanoma", ChoiceStatus::LabelName, 0);
    expect_choice(PromptStyle::SkinVl, "This is shingles.", ChoiceStatus::Synonym, 3);
    expect_choice(PromptStyle::SkinVl, "A mole.", ChoiceStatus::Synonym, 1);
    expect_choice(PromptStyle::SkinVl, "Melanocytic nevus", ChoiceStatus::LabelName, 1);
    expect_choice(PromptStyle::SkinVl, "BCC", ChoiceStatus::Synonym, 2);
    expect_choice(PromptStyle::SkinVl, "E: psoriasis", ChoiceStatus::Letter, 4);
}

TEST(ParseChoice, SynonymsNeedTheKnowledgeBase) {
    const auto parsed = parse_choice("This is shingles.", turns_for(PromptStyle::SkinVl), kLabels, PromptStyle::SkinVl,
                                     nullptr);
    EXPECT_EQ(parsed.status, ChoiceStatus::Unparseable);
    EXPECT_FALSE(parsed.index);
}

TEST(ParseChoice, NeverGuesses) {
    expect_choice(PromptStyle::SkinVl, "", ChoiceStatus::Unparseable, std::nullopt);
    expect_choice(PromptStyle::SkinVl, "I cannot tell.", ChoiceStatus::Unparseable, std::nullopt);
    expect_choice(PromptStyle::SkinVl, "shingles or psoriasis", ChoiceStatus::Unparseable, std::nullopt);
    expect_choice(PromptStyle::SkinVl, "melanoma, not a mole", ChoiceStatus::Unparseable, std::nullopt);
    expect_choice(PromptStyle::SkinVl, "A or B", ChoiceStatus::Unparseable, std::nullopt);
    expect_choice(PromptStyle::SkinVl, "lichen planus", ChoiceStatus::Unparseable, std::nullopt);  // not an option
}

TEST(ParseChoice, NotSureOption) {
    expect_choice(PromptStyle::Dermlens, "F)", ChoiceStatus::Letter, 5, true);
    expect_choice(PromptStyle::SkinVl, "Not sure.", ChoiceStatus::LabelName, 5, true);
    expect_choice(PromptStyle::SkinVl, "Not sure.", ChoiceStatus::Unparseable, std::nullopt, false);
}

TEST(ParseChoice, SkinR1ReadsTheFinalDiagnosis) {
    expect_choice(PromptStyle::SkinR1,
                  "<thinking>Grouped vesicles could suggest herpes zoster, but the plaques are scaly.</thinking> "
                  "<final diagnosis>E</final diagnosis>",
                  ChoiceStatus::Letter, 4);
    expect_choice(PromptStyle::SkinR1, "<thinking>…</thinking> <Final Diagnosis>C: basal cell carcinoma",
                  ChoiceStatus::Letter, 2);  // stopped before the closing tag
    expect_choice(PromptStyle::SkinR1, "<thinking>…</thinking> <final diagnosis>shingles, benign</final diagnosis>",
                  ChoiceStatus::Synonym, 3);
    const auto parsed = parse_choice("The answer is (B).", turns_for(PromptStyle::SkinR1), kLabels, PromptStyle::SkinR1,
                                     shipped_kb());
    EXPECT_EQ(parsed.status, ChoiceStatus::Unparseable);
    EXPECT_EQ(parsed.problem, "no <final diagnosis> tag");
}

TEST(ParseChoice, SkinFlowReadsTheFirstOfTheTopK) {
    expect_choice(PromptStyle::SkinFlow,
                  R"(<think>scaly plaques</think><answer>{"top5_diseases": [
                      {"disease": "psoriasis", "probability": 0.7, // most likely
                       "key_matching_fields": ["color"], "brief_reason": "silvery scale"},
                      {"disease": "melanoma", "probability": 0.1}]}</answer>)",
                  ChoiceStatus::LabelName, 4);
    expect_choice(PromptStyle::SkinFlow, R"(<answer>{"top2_diseases": [{"disease": "Shingles"}, {"disease": "nevus"}]}</answer>)",
                  ChoiceStatus::Synonym, 3);
    const auto problem = [](std::string_view reply) {
        return parse_choice(reply, turns_for(PromptStyle::SkinFlow), kLabels, PromptStyle::SkinFlow, shipped_kb()).problem;
    };
    EXPECT_EQ(problem("psoriasis"), "no <answer> tag");
    EXPECT_EQ(problem("<answer>psoriasis</answer>"), "the <answer> is not a JSON object");
    EXPECT_EQ(problem(R"(<answer>{"top5_diseases": []}</answer>)"), "the <answer> JSON has no top-K list");
    EXPECT_EQ(problem(R"(<answer>{"top5_diseases": [{"name": "psoriasis"}]}</answer>)"),
              "the first top-K entry has no \"disease\" text");
}

}  // namespace
