// The public model-free answers API (dermlens/answers.h), in a binary linked with dermlens_text
// alone: it would not link if reading answers needed llama.cpp. Letters are read strictly (a
// word starting with a capital is not a letter), names and synonyms through the knowledge
// base, SkinFlow's top-K list, and clinical grading against a label set.
#include "dermlens/answers.h"
#include "dermlens/error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace dermlens;

const kb::KnowledgeBase & shipped() {
    static const kb::KnowledgeBase kb = kb::KnowledgeBase::load({kb::KnowledgeBase::shipped_dir()});
    return kb;
}

const std::vector<std::string> kLabels{"melanoma", "melanocytic nevus", "herpes zoster"};

TEST(Answers, ALetterStandingAloneIsTheOption) {
    const ParsedChoice choice = parse_choice("B) it looks benign", kLabels);
    EXPECT_EQ(choice.status, "letter");
    EXPECT_EQ(choice.option, 1u);
}

TEST(Answers, ABenignWordIsNoLetter) {
    const ParsedChoice choice = parse_choice("Benign, I think", kLabels);
    EXPECT_EQ(choice.status, "unparseable");
    EXPECT_FALSE(choice.option.has_value());
    EXPECT_FALSE(choice.problem.empty());
}

TEST(Answers, ASynonymNamesItsOptionThroughTheKnowledgeBase) {
    EXPECT_EQ(parse_choice("This is shingles.", kLabels, "dermlens", false, &shipped()).option, 2u);
    EXPECT_EQ(parse_choice("This is shingles.", kLabels).status, "unparseable");  // no knowledge base, no synonyms
}

TEST(Answers, TheNotSureOptionComesLast) {
    EXPECT_EQ(parse_choice("D)", kLabels, "dermlens", true).option, kLabels.size());
}

TEST(Answers, ABadStyleNamesTheField) {
    try {
        parse_choice("A", kLabels, "poetry");
        FAIL() << "no error";
    } catch (const Error & e) {
        EXPECT_EQ(e.field(), "style");
    }
}

TEST(Answers, SkinFlowListsItsDiseasesInOrder) {
    const SkinFlowDiseases diseases = parse_skinflow_diseases(
        R"(<think>...</think><answer>{"top2_diseases": [{"disease": "melanoma"}, {"disease": "nevus"}]}</answer>)");
    EXPECT_THAT(diseases.names, ::testing::ElementsAre("melanoma", "nevus"));
    EXPECT_FALSE(parse_skinflow_diseases("no answer here").problem.empty());
}

TEST(Answers, GradesAreClinical) {
    const GradedDiagnosis exact = grade_diagnosis(shipped(), "melanoma", "melanoma", "isic9class");
    EXPECT_EQ(exact.grade, "exact");
    EXPECT_TRUE(exact.correct);
    const GradedDiagnosis synonym = grade_diagnosis(shipped(), "mole", "nevus", "isic9class");
    EXPECT_EQ(synonym.grade, "synonym");
    EXPECT_TRUE(synonym.correct);
    EXPECT_EQ(synonym.condition, "melanocytic_nevus");
    const GradedDiagnosis wrong = grade_diagnosis(shipped(), "psoriasis", "melanoma", "isic9class");
    EXPECT_FALSE(wrong.correct);
}

}  // namespace
