// Which answer tokens spell the diagnosis (m_label's steps for a free answer): the tokens
// overlapping the option's label in the answer part, else its standalone letter, else the
// whole answer part.
#include "pipeline/attention_evidence.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using dermlens::model::Generation;
using dermlens::pipeline::diagnosis_token_steps;

// A generation made of these pieces, one token each.
Generation generation_of(const std::vector<std::string> & pieces) {
    Generation out;
    for (const auto & piece : pieces) {
        out.tokens.push_back(static_cast<std::int32_t>(out.tokens.size()));
        out.text_offsets.push_back(out.text.size());
        out.text += piece;
    }
    return out;
}

TEST(DiagnosisTokenSteps, TokensOverlappingTheLabelCaseInsensitive) {
    const Generation answer = generation_of({"The", " lesion", " is", " Mel", "anoma", ",", " likely", "."});
    std::string source;
    EXPECT_EQ(diagnosis_token_steps(answer, answer.text, "melanoma", "B", source), (std::vector<std::size_t>{3, 4}));
    EXPECT_EQ(source, "answer tokens");
}

TEST(DiagnosisTokenSteps, LabelIsSearchedInTheAnswerPartOnly) {
    // Skin-R1 style: the reasoning names melanoma too; only the final diagnosis counts.
    const Generation answer = generation_of({"<thinking>", "not", " melanoma", "</thinking>", "<final diagnosis>",
                                             "mel", "anoma", "</final diagnosis>"});
    std::string source;
    EXPECT_EQ(diagnosis_token_steps(answer, "melanoma", "melanoma", "A", source), (std::vector<std::size_t>{5, 6}));
}

TEST(DiagnosisTokenSteps, StandaloneLetterWhenTheLabelIsAbsent) {
    const Generation answer = generation_of({"Answer", ":", " (", "B", ")"});
    std::string source;
    EXPECT_EQ(diagnosis_token_steps(answer, answer.text, "nevus", "B", source), (std::vector<std::size_t>{3}));
    EXPECT_EQ(source, "answer tokens");
}

TEST(DiagnosisTokenSteps, WholeAnswerPartWhenNeitherIsFound) {
    const Generation answer = generation_of({"Ben", "ign", " mole"});
    std::string source;
    // "B" inside "Benign" is not a standalone letter.
    EXPECT_EQ(diagnosis_token_steps(answer, answer.text, "nevus", "B", source), (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(source, "whole answer");
}

}  // namespace
