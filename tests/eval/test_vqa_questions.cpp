// skinvl-vqa's question file (eval/vqa_questions.h): images shared by questions read once and
// resolved against the file's folder, modalities as sorted classes, and every bad line refused
// naming the file's line and what is wrong.
#include "dermlens/error.h"
#include "eval/vqa_questions.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace {

namespace eval = dermlens::eval;
using testing::HasSubstr;

std::string error_of(const std::filesystem::path & file) {
    try {
        eval::load_vqa_set(file);
    } catch (const dermlens::Error & e) {
        return e.what();
    }
    return "no error";
}

TEST(VqaQuestions, ReadsImagesOnceAndModalitiesAsClasses) {
    const dermlens::test::TempDir dir("vqa_questions");
    std::ofstream(dir / "a.jpg") << "x";
    std::ofstream(dir / "b.png") << "x";
    std::ofstream(dir / "q.jsonl") << R"({"image": "a.jpg", "question": "Colour?", "answer": "Brown.", "modality": "pathology"})"
                                   << "\n\n"
                                   << R"({"image": "b.png", "question": "Shape?", "answer": "Round.", "modality": "clinical"})"
                                   << "\n"
                                   << R"({"image": "a.jpg", "question": "Border?", "answer": "Sharp."})" << "\n";
    const eval::VqaSet set = eval::load_vqa_set(dir / "q.jsonl");
    ASSERT_EQ(set.questions.size(), 3U);
    ASSERT_EQ(set.dataset.images.size(), 2U);
    EXPECT_EQ(set.dataset.images[0].path, dir / "a.jpg");
    EXPECT_EQ(set.dataset.images[0].split, "test");
    EXPECT_EQ(set.dataset.classes, (std::vector<std::string>{"clinical", "pathology", "unspecified"}));
    EXPECT_EQ(set.dataset.images[1].cls, 0U);
    EXPECT_EQ(set.questions[1].line, 3U);  // the blank line counts
    EXPECT_EQ(set.questions[2].modality, "unspecified");
    EXPECT_EQ(set.questions_of(0), (std::vector<std::size_t>{0, 2}));
}

TEST(VqaQuestions, RefusesBadLinesNamingThem) {
    const dermlens::test::TempDir dir("vqa_questions_bad");
    std::ofstream(dir / "a.jpg") << "x";
    const auto write = [&](const std::string & name, const std::string & text) {
        std::ofstream(dir / name) << R"({"image": "a.jpg", "question": "Q?", "answer": "A."})" << "\n" << text << "\n";
        return dir / name;
    };
    EXPECT_THAT(error_of(write("array.jsonl", "[1, 2]")), HasSubstr("line 2: not a JSON object"));
    EXPECT_THAT(error_of(write("broken.jsonl", R"({"image": "a.jpg", "question": )")), HasSubstr("line 2"));
    EXPECT_THAT(error_of(write("number.jsonl", R"({"image": "a.jpg", "question": 3, "answer": "A."})")),
                HasSubstr("line 2: no string field 'question'"));
    EXPECT_THAT(error_of(write("missing.jsonl", R"({"image": "none.jpg", "question": "Q?", "answer": "A."})")),
                HasSubstr("line 2: image"));
    std::ofstream(dir / "empty.jsonl") << "\n";
    EXPECT_THAT(error_of(dir / "empty.jsonl"), HasSubstr("no questions"));
    EXPECT_THAT(error_of(dir / "absent.jsonl"), HasSubstr("cannot read it"));
}

}  // namespace
