// Lettered options without a model: label lists, reading a free reply back to one
// option (or refusing to), and the prompt data files.
#include "dermlens/error.h"
#include "pipeline/data_files.h"
#include "pipeline/direct.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

using dermlens::pipeline::ParseStatus;
using dermlens::pipeline::parse_direct_answer;

const std::vector<std::string> kLabels{"melanoma", "nevus", "basal cell carcinoma", "seborrheic keratosis",
                                       "actinic keratosis"};

void expect_answer(std::string_view reply, ParseStatus status, std::optional<std::size_t> index) {
    const auto parsed = parse_direct_answer(reply, kLabels);
    EXPECT_EQ(parsed.status, status) << "reply: " << reply;
    EXPECT_EQ(parsed.index, index) << "reply: " << reply;
}

TEST(ParseDirectAnswer, Letters) {
    expect_answer("B", ParseStatus::Letter, 1);
    expect_answer("(B)", ParseStatus::Letter, 1);
    expect_answer("B.", ParseStatus::Letter, 1);
    expect_answer("(b)", ParseStatus::Letter, 1);
    expect_answer("  (C) basal cell carcinoma\n", ParseStatus::Letter, 2);
    expect_answer("**(A)**", ParseStatus::Letter, 0);
    expect_answer("E: actinic keratosis", ParseStatus::Letter, 4);
    expect_answer("The answer is (D).", ParseStatus::Letter, 3);
}

TEST(ParseDirectAnswer, LabelNames) {
    expect_answer("nevus", ParseStatus::LabelName, 1);
    expect_answer("Melanoma", ParseStatus::LabelName, 0);
    expect_answer("BASAL CELL CARCINOMA.", ParseStatus::LabelName, 2);
    expect_answer("This looks like a seborrheic keratosis to me.", ParseStatus::LabelName, 3);
    expect_answer("A nevus.", ParseStatus::LabelName, 1);  // the article, not option (A)
}

TEST(ParseDirectAnswer, Unparseable) {
    expect_answer("", ParseStatus::Unparseable, std::nullopt);
    expect_answer("I cannot tell from this image.", ParseStatus::Unparseable, std::nullopt);
    expect_answer("(F)", ParseStatus::Unparseable, std::nullopt);                    // no sixth option
    expect_answer("melanoma or nevus", ParseStatus::Unparseable, std::nullopt);      // two labels
    expect_answer("(A) or (B)", ParseStatus::Unparseable, std::nullopt);             // two letters
    expect_answer("(A) nevus", ParseStatus::Unparseable, std::nullopt);              // letter contradicts name
    expect_answer("melanomas everywhere", ParseStatus::Unparseable, std::nullopt);   // not a whole word
    expect_answer("b", ParseStatus::Unparseable, std::nullopt);                      // bare lower-case letter
}

TEST(ParseLabelList, TrimsAndValidates) {
    EXPECT_EQ(dermlens::pipeline::parse_label_list(" melanoma , nevus,basal cell carcinoma "),
              (std::vector<std::string>{"melanoma", "nevus", "basal cell carcinoma"}));
    EXPECT_THROW(dermlens::pipeline::parse_label_list("melanoma"), dermlens::Error);
    EXPECT_THROW(dermlens::pipeline::parse_label_list("melanoma,,nevus"), dermlens::Error);
    EXPECT_THROW(dermlens::pipeline::parse_label_list("melanoma,Melanoma"), dermlens::Error);
    std::string many = "l0";
    for (int i = 1; i < 27; ++i) {
        many += ",l" + std::to_string(i);
    }
    EXPECT_THROW(dermlens::pipeline::parse_label_list(many), dermlens::Error);
}

TEST(DataFiles, ShippedPromptsHaveNoTrailingWhitespace) {
    const std::string prompt = dermlens::pipeline::read_prompt("question");
    EXPECT_NE(prompt.find("{options}"), std::string::npos);
    EXPECT_FALSE(std::isspace(static_cast<unsigned char>(prompt.back())));
}

TEST(DataFiles, EnvironmentOverridesTheDataDir) {
    const auto dir = std::filesystem::temp_directory_path() / ("dermlens_data_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "prompts");
    std::ofstream(dir / "prompts" / "question.txt") << "custom {options}\n\n";
    ::setenv("DERMLENS_DATA_DIR", dir.c_str(), 1);
    EXPECT_EQ(dermlens::pipeline::read_prompt("question"), "custom {options}");
    try {
        dermlens::pipeline::read_prompt("absent");
        FAIL() << "expected an error";
    } catch (const dermlens::Error & e) {
        EXPECT_NE(std::string(e.what()).find("absent.txt"), std::string::npos);
    }
    ::unsetenv("DERMLENS_DATA_DIR");
    std::filesystem::remove_all(dir);
}

}  // namespace
