// The direct-answer strategy without a model: label lists, the question, reading
// the reply back to one label (or refusing to), and the JSON report's shape.
#include "dermlens/error.h"
#include "pipeline/data_files.h"
#include "pipeline/diagnosis.h"
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

TEST(BuildDirectQuestion, ListsLetteredOptions) {
    const auto question = dermlens::pipeline::build_direct_question("Pick one:\n{options}\nLetter only.", {"melanoma", "nevus"});
    EXPECT_EQ(question, "Pick one:\n(A) melanoma\n(B) nevus\nLetter only.");
    EXPECT_THROW(dermlens::pipeline::build_direct_question("no placeholder", {"a", "b"}), dermlens::Error);
}

TEST(DataFiles, ShippedDirectPromptHasThePlaceholder) {
    const std::string prompt = dermlens::pipeline::read_prompt("direct");
    EXPECT_NE(prompt.find("{options}"), std::string::npos);
    EXPECT_FALSE(std::isspace(static_cast<unsigned char>(prompt.back())));
}

TEST(DataFiles, EnvironmentOverridesTheDataDir) {
    const auto dir = std::filesystem::temp_directory_path() / ("dermlens_data_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "prompts");
    std::ofstream(dir / "prompts" / "direct.txt") << "custom {options}\n\n";
    ::setenv("DERMLENS_DATA_DIR", dir.c_str(), 1);
    EXPECT_EQ(dermlens::pipeline::read_prompt("direct"), "custom {options}");
    try {
        dermlens::pipeline::read_prompt("absent");
        FAIL() << "expected an error";
    } catch (const dermlens::Error & e) {
        EXPECT_NE(std::string(e.what()).find("absent.txt"), std::string::npos);
    }
    ::unsetenv("DERMLENS_DATA_DIR");
    std::filesystem::remove_all(dir);
}

TEST(DiagnosisJson, HasTheDocumentedFields) {
    dermlens::pipeline::Diagnosis d;
    d.image = {"lesion.png", "abc"};
    d.model = {"model.gguf", "def"};
    d.mmproj = {"mmproj.gguf", "123"};
    d.strategy = "direct";
    d.options = {"melanoma", "nevus"};
    d.parse_status = ParseStatus::Letter;
    d.answer_index = 1;
    d.generation.text = "(B)";
    const auto json = dermlens::pipeline::to_json(d);
    EXPECT_EQ(json["answer"]["label"], "nevus");
    EXPECT_EQ(json["answer"]["letter"], "B");
    EXPECT_EQ(json["answer"]["parse_status"], "letter");
    EXPECT_EQ(json["options"][1]["label"], "nevus");
    EXPECT_EQ(json["image"]["sha256"], "abc");
    EXPECT_EQ(json["mmproj"]["path"], "mmproj.gguf");
    EXPECT_EQ(json["raw_text"], "(B)");
    EXPECT_TRUE(json["timings"].contains("image_encode_ms"));

    d.parse_status = ParseStatus::Unparseable;
    d.answer_index.reset();
    EXPECT_TRUE(dermlens::pipeline::to_json(d)["answer"]["label"].is_null());
}

TEST(DiagnosisJson, FailedImageCarriesTheError) {
    const dermlens::pipeline::ImageOutcome outcome{
        "broken.jpg", std::nullopt, dermlens::Error(dermlens::ErrorKind::InvalidInput, "image 'broken.jpg': truncated")};
    const auto json = dermlens::pipeline::to_json(outcome);
    EXPECT_EQ(json["image"]["path"], "broken.jpg");
    EXPECT_EQ(json["error"]["kind"], "invalid_input");
    EXPECT_FALSE(json.contains("answer"));
}

}  // namespace
