// Conversations with the VLM on generated tiny models of all three architectures:
// prefix reuse in the KV cache gives exactly (bit for bit) what an empty cache gives (a
// Vlm with reuse off is the reference) while evaluating fewer tokens, and nothing for the
// same prompt again; next-token scores agree
// with greedy decoding; grammar-constrained generation follows the grammar and seeded
// sampling is reproducible; the encoder-run counter; refusals.
#include "dermlens/error.h"
#include "image/image.h"
#include "model/lesion_png.h"
#include "model/testmodel.h"
#include "model/vlm.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using dermlens::model::ChatPrompt;
using dermlens::model::ChatTurn;
using dermlens::model::DecodeParams;
using dermlens::model::ImageEncoding;
using dermlens::model::Vlm;
using dermlens::testmodel::Arch;
using Role = ChatTurn::Role;

const std::string kPreamble = "You are assisting a dermatologist. Options: (A) melanoma (B) nevus (C) wart.\n";

ChatPrompt ask(const std::string & question, const std::string & lead = "") {
    return {{{Role::User, kPreamble + Vlm::image_marker() + "\n" + question}}, lead};
}

class VlmChat : public testing::TestWithParam<Arch> {
protected:
    static void SetUpTestSuite() { dir_ = new dermlens::test::TempDir("vlm_chat"); }
    static void TearDownTestSuite() { delete dir_; }

    // One model pair per architecture, encodings of two different images.
    void SetUp() override {
        dermlens::testmodel::Options options;
        options.arch = GetParam();
        options.seed = 5;
        options.out_dir = *dir_ / std::string(dermlens::testmodel::arch_name(GetParam()));
        const auto files = fs::exists(options.out_dir / "mmproj.gguf")
                               ? dermlens::testmodel::Files{options.out_dir / "model.gguf", options.out_dir / "mmproj.gguf"}
                               : dermlens::testmodel::make_test_model(options);
        params_.model_path = files.model;
        params_.mmproj_path = files.mmproj;
        params_.threads = 1;
        params_.context_size = 2048;
        params_.max_tokens = 8;
        const auto image = dermlens::image::load_image(dermlens::test::lesion_png(dir_->path()));
        reuse_ = std::make_unique<Vlm>(params_);
        first_ = reuse_->encode({image.width, image.height, image.rgb.data()});
        std::vector<std::uint8_t> flipped(image.rgb.rbegin(), image.rgb.rend());
        second_ = reuse_->encode({image.width, image.height, flipped.data()});
    }

    Vlm & fresh() {
        if (!fresh_) {
            auto params = params_;
            params.reuse_prefix = false;
            fresh_ = std::make_unique<Vlm>(params);
        }
        return *fresh_;
    }

    static inline dermlens::test::TempDir * dir_ = nullptr;
    dermlens::model::VlmParams params_;
    std::unique_ptr<Vlm> reuse_;
    std::unique_ptr<Vlm> fresh_;
    ImageEncoding first_;
    ImageEncoding second_;
};

TEST_P(VlmChat, ReusedPrefixGivesWhatAnEmptyCacheGives) {
    const DecodeParams decode{8, "", 0, 0};
    // A run: two questions about one image, the same about another, then a follow-up turn.
    const auto describe = reuse_->generate(first_, ask("Describe the lesion."), decode);
    EXPECT_EQ(describe.reused_tokens, 0);
    const ChatPrompt follow_up{{{Role::User, kPreamble + Vlm::image_marker() + "\nDescribe the lesion."},
                                {Role::Assistant, describe.text},
                                {Role::User, "Now answer with the letter."}},
                               "Answer: ("};
    const auto second_turn = reuse_->generate(first_, follow_up, decode);
    const auto decide = reuse_->generate(first_, ask("Which option is it?"), decode);
    const auto other_image = reuse_->generate(second_, ask("Which option is it?"), decode);

    // Reuse keeps whole chunks: the text before the image and the image for the follow-up
    // and the second question about the first image; the text before the image for the other.
    EXPECT_GT(decide.reused_tokens, decide.image_tokens);
    EXPECT_EQ(second_turn.reused_tokens, decide.reused_tokens);
    EXPECT_GT(other_image.reused_tokens, 0);
    EXPECT_EQ(other_image.reused_tokens + other_image.image_tokens, decide.reused_tokens);

    for (const auto & [reused, prompt, encoding] :
         std::vector<std::tuple<dermlens::model::Generation, ChatPrompt, const ImageEncoding *>>{
             {decide, ask("Which option is it?"), &first_},
             {other_image, ask("Which option is it?"), &second_},
             {second_turn, follow_up, &first_}}) {
        const auto reference = fresh().generate(*encoding, prompt, decode);
        EXPECT_EQ(reference.reused_tokens, 0);
        EXPECT_EQ(reused.tokens, reference.tokens);
        EXPECT_EQ(reused.prompt_tokens, reference.prompt_tokens);
    }
}

TEST_P(VlmChat, NextTokenScoresAgreeWithGreedyDecodingAndAcrossCaches) {
    const ChatPrompt prompt = ask("Which option is it?", "Answer: (");
    const std::vector<std::string> letters{"A", "B", "C", "D"};
    reuse_->generate(first_, ask("Describe the lesion."), DecodeParams{4, "", 0, 0});  // something to reuse
    const auto reused = reuse_->score_next_token(first_, prompt, letters);
    const auto reference = fresh().score_next_token(first_, prompt, letters);
    EXPECT_GT(reused.reused_tokens, 0);
    EXPECT_EQ(reference.reused_tokens, 0);
    ASSERT_EQ(reused.log_probabilities.size(), letters.size());
    double total = 0;
    for (std::size_t i = 0; i < letters.size(); ++i) {
        EXPECT_LE(reused.log_probabilities[i], 0.0);
        EXPECT_EQ(reused.log_probabilities[i], reference.log_probabilities[i]) << letters[i];  // exactly
        total += std::exp(reused.log_probabilities[i]);
    }
    EXPECT_LE(total, 1.0 + 1e-9);
    // The same prompt again, the whole of it in the cache: the same numbers to the last bit.
    EXPECT_EQ(reuse_->score_next_token(first_, prompt, letters).log_probabilities, reused.log_probabilities);
    // llama.cpp's grammar sampler with greedy decoding picks the most likely allowed letter.
    const auto constrained = fresh().generate(first_, prompt, DecodeParams{1, R"(root ::= "A" | "B" | "C" | "D")", 0, 0});
    const auto best = std::max_element(reused.log_probabilities.begin(), reused.log_probabilities.end());
    EXPECT_EQ(constrained.text, letters[static_cast<std::size_t>(best - reused.log_probabilities.begin())]);
    EXPECT_EQ(constrained.tokens.front(), reused.tokens[static_cast<std::size_t>(best - reused.log_probabilities.begin())]);
}

// The sessions of a loaded model share its threads (model/thread_share.h), so a step runs with
// however many the load leaves it: the numbers must not depend on that.
TEST_P(VlmChat, ThreadCountsChangeNoNumber) {
    auto params = params_;
    params.threads = 3;
    Vlm threaded(params);
    const auto image = dermlens::image::load_image(dermlens::test::lesion_png(dir_->path()));
    const ImageEncoding encoded = threaded.encode({image.width, image.height, image.rgb.data()});
    EXPECT_EQ(encoded.embeddings, first_.embeddings);
    EXPECT_EQ(encoded.encoder_mean, first_.encoder_mean);
    const ChatPrompt prompt = ask("Which option is it?", "Answer: (");
    const std::vector<std::string> letters{"A", "B", "C"};
    EXPECT_EQ(threaded.score_next_token(first_, prompt, letters).log_probabilities,
              fresh().score_next_token(first_, prompt, letters).log_probabilities);
    const DecodeParams decode{8, "", 0, 0};
    EXPECT_EQ(threaded.generate(second_, ask("Describe the lesion."), decode).tokens,
              fresh().generate(second_, ask("Describe the lesion."), decode).tokens);
}

TEST_P(VlmChat, TheSamePromptAgainEvaluatesNothingAndAnswersAlike) {
    const DecodeParams decode{8, "", 0, 0};
    const auto first = reuse_->generate(first_, ask("Which option is it?"), decode);
    const auto again = reuse_->generate(first_, ask("Which option is it?"), decode);
    EXPECT_LT(first.reused_tokens, first.prompt_tokens);
    EXPECT_EQ(again.reused_tokens, again.prompt_tokens);  // the reply of `first` was cut from the cache
    EXPECT_EQ(again.tokens, first.tokens);
    EXPECT_EQ(again.tokens, fresh().generate(first_, ask("Which option is it?"), decode).tokens);
    // Another question in between: the prompt's end is evaluated again, then kept again.
    reuse_->generate(second_, ask("Which option is it?"), decode);
    const auto after_other = reuse_->generate(first_, ask("Which option is it?"), decode);
    EXPECT_LT(after_other.reused_tokens, after_other.prompt_tokens);
    EXPECT_EQ(after_other.tokens, first.tokens);
    // Scores of the next token for the same prompt, twice: the second reads the kept logits.
    const ChatPrompt lettered = ask("Which option is it?", "Answer: (");
    const auto scored = reuse_->score_next_token(first_, lettered, {"A", "B", "C"});
    const auto rescored = reuse_->score_next_token(first_, lettered, {"A", "B", "C"});
    EXPECT_EQ(rescored.reused_tokens, rescored.prompt_tokens);
    EXPECT_EQ(rescored.log_probabilities, scored.log_probabilities);
    EXPECT_EQ(rescored.log_probabilities, fresh().score_next_token(first_, lettered, {"A", "B", "C"}).log_probabilities);
}

TEST_P(VlmChat, GrammarConstrainsAndSeedsReproduce) {
    const std::string grammar = R"(root ::= "{\"colour\": \"" [a-z]{1,12} "\"}")";
    for (std::uint32_t seed = 0; seed < 10; ++seed) {
        const DecodeParams sampled{40, grammar, 1.0f, seed};
        const auto reply = reuse_->generate(first_, ask("Describe the colour."), sampled);
        EXPECT_EQ(reply.stop_reason, dermlens::model::StopReason::EndOfGeneration) << reply.text;
        EXPECT_TRUE(reply.text.starts_with("{\"colour\": \"") && reply.text.ends_with("\"}")) << reply.text;
        EXPECT_EQ(fresh().generate(first_, ask("Describe the colour."), sampled).text, reply.text) << "seed " << seed;
    }
}

TEST_P(VlmChat, CountsEncoderRuns) {
    EXPECT_EQ(reuse_->encoder_runs(), 2u);
    reuse_->generate(first_, ask("Which option is it?"), DecodeParams{2, "", 0, 0});
    reuse_->score_next_token(first_, ask("Which option is it?", "("), {"A", "B"});
    EXPECT_EQ(reuse_->encoder_runs(), 2u);
}

TEST_P(VlmChat, RefusesMalformedPrompts) {
    const DecodeParams decode{2, "", 0, 0};
    const auto refuses = [&](const ChatPrompt & prompt, const std::string & reason) {
        dermlens::test::expect_error([&] { reuse_->generate(first_, prompt, decode); },
                                     dermlens::ErrorKind::InvalidArgument, {reason});
    };
    refuses({{{Role::User, "no image here"}}, ""}, "image marker once (found 0 times)");
    refuses({{{Role::User, std::string(Vlm::image_marker()) + Vlm::image_marker()}}, ""}, "(found 2 times)");
    refuses({{{Role::User, Vlm::image_marker()}, {Role::Assistant, "ok"}}, ""}, "ending with a user turn");
    refuses({{}, ""}, "ending with a user turn");
    EXPECT_THROW(reuse_->generate(first_, ask("x"), DecodeParams{4, "root ::= (", 0, 0}), dermlens::Error);
    EXPECT_THROW(reuse_->generate(first_, ask("x"), DecodeParams{0, "", 0, 0}), dermlens::Error);
    EXPECT_THROW(reuse_->score_next_token(first_, ask("x", "("), {"A", "A"}), dermlens::Error);
    EXPECT_THROW(reuse_->score_next_token(first_, ask("x", "("), {""}), dermlens::Error);
    // After the refusals the cache still serves correct answers.
    const auto after = reuse_->generate(first_, ask("Which option is it?"), decode);
    EXPECT_EQ(after.tokens, fresh().generate(first_, ask("Which option is it?"), decode).tokens);
}

INSTANTIATE_TEST_SUITE_P(AllArchitectures, VlmChat, testing::Values(Arch::Gemma3, Arch::Qwen2VL, Arch::Llava),
                         [](const auto & test) { return std::string(dermlens::testmodel::arch_name(test.param)); });

}  // namespace
