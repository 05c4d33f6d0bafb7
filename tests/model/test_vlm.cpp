// The Vlm runtime on a generated tiny Gemma 3 model: reproducible answers across
// calls (the KV cache is cleared per image), timings, and parameter validation.
#include "dermlens/error.h"
#include "model/testmodel.h"
#include "model/vlm.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

namespace {

namespace fs = std::filesystem;
using dermlens::model::Vlm;
using dermlens::model::VlmParams;

std::vector<std::uint8_t> gradient(int width, int height, int phase) {
    std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width) * height * 3);
    for (std::size_t i = 0; i < rgb.size(); ++i) {
        rgb[i] = static_cast<std::uint8_t>((i * 7 + static_cast<std::size_t>(phase)) % 251);
    }
    return rgb;
}

class TinyGemma3 : public testing::Test {
protected:
    static void SetUpTestSuite() {
        dermlens::testmodel::Options options;
        options.out_dir = fs::temp_directory_path() / ("dermlens_vlm_" + std::to_string(::getpid()));
        files_ = dermlens::testmodel::make_test_model(options);
    }
    static void TearDownTestSuite() { fs::remove_all(files_.model.parent_path()); }

    static VlmParams params() {
        VlmParams p;
        p.model_path = files_.model;
        p.mmproj_path = files_.mmproj;
        p.threads = 1;
        p.max_tokens = 8;
        return p;
    }

    static inline dermlens::testmodel::Files files_;
};

TEST_F(TinyGemma3, SameImageGivesSameAnswerAfterOtherImages) {
    Vlm vlm(params());
    const auto a = gradient(64, 48, 0);
    const auto b = gradient(80, 80, 100);
    const auto first = vlm.generate({64, 48, a.data()}, "Which option?");
    const auto other = vlm.generate({80, 80, b.data()}, "Which option?");
    const auto again = vlm.generate({64, 48, a.data()}, "Which option?");
    EXPECT_EQ(first.tokens, again.tokens);
    EXPECT_EQ(first.text, again.text);
    EXPECT_EQ(first.prompt_tokens, again.prompt_tokens);
    EXPECT_GT(first.image_tokens, 0);
    EXPECT_GT(first.prompt_tokens, first.image_tokens);
    EXPECT_GT(first.timings.image_encode_ms, 0.0);
    EXPECT_GT(first.prefill_tokens_per_s(), 0.0);
    EXPECT_GE(first.timings.total_ms, first.timings.image_encode_ms + first.timings.prefill_ms);
    (void)other;
}

TEST_F(TinyGemma3, PromptUsesTheGgufChatTemplate) {
    Vlm vlm(params());
    const std::string prompt = vlm.format_prompt(Vlm::user_message("Which option?"));
    EXPECT_EQ(prompt, "<start_of_turn>user\n<__media__>\nWhich option?<end_of_turn>\n<start_of_turn>model\n");
}

TEST_F(TinyGemma3, PromptLongerThanContextIsRefused) {
    VlmParams p = params();
    p.context_size = 16;
    p.max_tokens = 8;
    Vlm vlm(p);
    const auto a = gradient(32, 32, 0);
    try {
        vlm.generate({32, 32, a.data()}, "Which option?");
        FAIL() << "expected an error";
    } catch (const dermlens::Error & e) {
        EXPECT_EQ(e.kind(), dermlens::ErrorKind::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("context size"), std::string::npos) << e.what();
    }
}

TEST(VlmParams, ValidateNamesTheBadValue) {
    VlmParams p;
    p.model_path = "m.gguf";
    p.mmproj_path = "p.gguf";
    p.threads = 0;
    try {
        p.validate();
        FAIL() << "expected an error";
    } catch (const dermlens::Error & e) {
        EXPECT_EQ(e.kind(), dermlens::ErrorKind::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("threads"), std::string::npos);
    }
    p.threads = 1;
    p.max_tokens = 5000;
    EXPECT_THROW(p.validate(), dermlens::Error);
    EXPECT_THROW(dermlens::model::parse_flash_attention("maybe"), dermlens::Error);
    EXPECT_EQ(dermlens::model::parse_flash_attention("off"), dermlens::model::FlashAttention::Off);
}

}  // namespace
