// The VQA-pair writer's mechanical rules (mmskin/vqa_writer.h) on turns written for the test
// against their captions — forbidden words, numbers and diagnosis names the caption lacks, long
// answers — and the request it sends: system prompt, the few-shot conversations, the caption
// last, the grammar.
#include "dermlens/error.h"
#include "mmskin/vqa_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

namespace mmskin = dermlens::mmskin;

const mmskin::VqaWriterConfig & config() {
    static const mmskin::VqaWriterConfig loaded =
        mmskin::VqaWriterConfig::load(std::string(DERMLENS_SOURCE_DIR) + "/data/mmskin/vqa_writer.json");
    return loaded;
}

const dermlens::kb::KnowledgeBase & kb() {
    static const auto loaded = dermlens::kb::KnowledgeBase::load({dermlens::kb::KnowledgeBase::shipped_dir()});
    return loaded;
}

TEST(MmskinVqaWriter, FiltersTurnsByThePapersRules) {
    const std::string caption =
        "Melanoma on the back of a 62-year-old man: an asymmetric lesion with several colours and an irregular border.";
    std::string many_words;
    for (int i = 0; i < 61; ++i) {
        many_words += "word ";
    }
    const std::vector<std::pair<mmskin::VqaTurn, std::string>> cases{
        {{"What colours are visible?", "Several colours can be seen in the lesion."}, ""},
        {{"Is the border regular?", "No, the melanoma has an irregular border."}, ""},  // in the caption
        {{"What does the caption say?", "It shows a lesion."}, "forbidden word 'caption'"},
        {{"Is anything else mentioned?", "No."}, "forbidden word 'mentioned'"},
        {{"How old is the patient?", "The patient looks about 62."}, ""},  // 62 is in the caption
        {{"How large is it?", "It is about 12 mm across."}, "number 12 not in the caption"},
        {{"Could it be something else?", "It resembles a seborrheic keratosis."},
         "diagnosis 'seborrheic keratosis' not in the caption"},
        {{"Describe the surface.", many_words}, "answer of 61 words, over 60"},
    };
    std::vector<mmskin::VqaTurn> turns;
    for (const auto & [turn, reason] : cases) {
        turns.push_back(turn);
    }
    const mmskin::FilteredTurns filtered = mmskin::filter_turns(turns, caption, config(), kb());
    std::size_t kept = 0;
    std::size_t rejected = 0;
    for (const auto & [turn, reason] : cases) {
        SCOPED_TRACE(turn.question);
        if (reason.empty()) {
            ASSERT_LT(kept, filtered.kept.size());
            EXPECT_EQ(filtered.kept[kept++].answer, turn.answer);
        } else {
            ASSERT_LT(rejected, filtered.rejected.size());
            EXPECT_EQ(filtered.rejected[rejected].turn.question, turn.question);
            EXPECT_EQ(filtered.rejected[rejected++].reason, reason);
        }
    }
    EXPECT_EQ(kept, filtered.kept.size());
    EXPECT_EQ(rejected, filtered.rejected.size());
}

TEST(MmskinVqaWriter, ParsesTurnsAndRefusesOtherReplies) {
    const auto turns = mmskin::parse_turns(R"([{"q": "What is seen?", "a": "Red papules."}, {"q": "Where?", "a": "On the arm."}])");
    ASSERT_EQ(turns.size(), 2U);
    EXPECT_EQ(turns[1].answer, "On the arm.");
    EXPECT_THROW(mmskin::parse_turns(R"([{"q": "cut off)"), dermlens::Error);
    EXPECT_THROW(mmskin::parse_turns(R"({"q": "x", "a": "y"})"), dermlens::Error);
}

TEST(MmskinVqaWriter, RequestHoldsPromptFewShotAndGrammar) {
    const auto request = mmskin::vqa_request("Urticaria: transient wheals on the trunk.", config(), {});
    ASSERT_EQ(request.messages.size(), 2 + 2 * config().few_shot.size());
    EXPECT_EQ(request.messages.front().role, "system");
    EXPECT_NE(request.messages.front().text.find("you don't have access to the actual image"), std::string::npos);
    EXPECT_EQ(request.messages[2].role, "assistant");
    EXPECT_EQ(request.messages.back().role, "user");
    EXPECT_EQ(request.messages.back().text, "Urticaria: transient wheals on the trunk.");
    EXPECT_NE(request.grammar.find("root"), std::string::npos);
    mmskin::VqaWriterParams bad;
    bad.max_tokens = 4;
    EXPECT_THROW(mmskin::vqa_request("x", config(), bad), dermlens::Error);
}

}  // namespace
