// KvPrefix: which part of the KV cache a new prompt keeps — whole chunks only, or the whole
// prompt when it is the one whose logits are kept — and the positions and cells it accounts
// for (images advance positions by their own n_pos).
#include "model/kv_prefix.h"

#include <gtest/gtest.h>

#include <vector>

namespace {

using dermlens::model::KvPrefix;
using dermlens::model::PromptItem;

// text chunk [1 2 3], image (4 cells, 2 positions), text chunk [5 6 7]
std::vector<PromptItem> prompt(std::uint64_t image, std::vector<std::int32_t> after) {
    std::vector<PromptItem> items{PromptItem::text(1, true), PromptItem::text(2, false), PromptItem::text(3, false),
                                  PromptItem::image(image, 4, 2)};
    for (std::size_t i = 0; i < after.size(); ++i) {
        items.push_back(PromptItem::text(after[i], i == 0));
    }
    return items;
}

KvPrefix holding(const std::vector<PromptItem> & items) {
    KvPrefix cache;
    for (const auto & item : items) {
        cache.append(item);
    }
    return cache;
}

TEST(KvPrefix, CountsPositionsAndCells) {
    const KvPrefix cache = holding(prompt(9, {5, 6, 7}));
    EXPECT_EQ(cache.size(), 7u);
    EXPECT_EQ(cache.position_after(3), 3);
    EXPECT_EQ(cache.position_after(4), 5);  // the image advances 2 positions
    EXPECT_EQ(cache.tokens_in(4), 7);       // and fills 4 cells
    EXPECT_EQ(cache.position_after(7), 8);
    EXPECT_EQ(cache.tokens_in(0), 0);
}

TEST(KvPrefix, KeepsWholeChunksOnly) {
    const KvPrefix cache = holding(prompt(9, {5, 6, 7}));
    EXPECT_EQ(cache.reusable(prompt(9, {5, 6, 8})), 4u);  // diverges inside the last chunk: keep up to it
    EXPECT_EQ(cache.reusable(prompt(8, {5, 6, 7})), 3u);  // another image: the text before it only
    EXPECT_EQ(cache.reusable(prompt(9, {5, 6, 7})), 4u);  // the same prompt: its last chunk again
    EXPECT_EQ(cache.reusable(prompt(9, {5, 6, 7, 10})), 4u);
    std::vector<PromptItem> other_start = prompt(9, {5});
    other_start[0] = PromptItem::text(0, true);
    EXPECT_EQ(cache.reusable(other_start), 0u);
    EXPECT_EQ(KvPrefix().reusable(prompt(9, {5})), 0u);
}

TEST(KvPrefix, GeneratedTokensAreNoChunkBoundary) {
    KvPrefix cache = holding(prompt(9, {5, 6}));
    cache.append(PromptItem::text(20, false));  // generated
    // A follow-up turn re-tokenises the reply inside the text after the image: that chunk is evaluated again.
    EXPECT_EQ(cache.reusable(prompt(9, {5, 6, 20, 21})), 4u);
    cache.truncate(4);
    EXPECT_EQ(cache.size(), 4u);
    EXPECT_EQ(cache.position_after(cache.size()), 5);
}

TEST(KvPrefix, KeptLogitsServeExactlyTheirPrompt) {
    KvPrefix cache = holding(prompt(9, {5, 6, 7}));
    EXPECT_EQ(cache.prompt_logits(prompt(9, {5, 6, 7})), nullptr);  // none kept yet
    const std::vector<float> logits{0.5f, -1.0f, 2.0f};
    cache.keep_prompt_logits(logits.data(), logits.size());
    cache.append(PromptItem::text(20, false));  // generated after the prompt
    ASSERT_NE(cache.prompt_logits(prompt(9, {5, 6, 7})), nullptr);
    EXPECT_EQ(*cache.prompt_logits(prompt(9, {5, 6, 7})), logits);
    EXPECT_EQ(cache.prompt_logits(prompt(9, {5, 6, 7, 20})), nullptr);  // the prompt and its reply: longer
    EXPECT_EQ(cache.prompt_logits(prompt(9, {5, 6})), nullptr);         // a shorter prompt
    EXPECT_EQ(cache.prompt_logits(prompt(8, {5, 6, 7})), nullptr);      // another image
    cache.truncate(7);  // the reply cut away: the prompt is still whole
    EXPECT_NE(cache.prompt_logits(prompt(9, {5, 6, 7})), nullptr);
    cache.truncate(6);  // the prompt cut: its logits are gone
    cache.append(PromptItem::text(7, false));
    EXPECT_EQ(cache.prompt_logits(prompt(9, {5, 6, 7})), nullptr);
}

TEST(KvPrefix, ContentKeyTellsImagesApart) {
    const std::vector<float> a{1.0f, 2.0f, 3.0f};
    std::vector<float> b = a;
    EXPECT_EQ(dermlens::model::content_key(a), dermlens::model::content_key(b));
    b[2] = 3.0001f;
    EXPECT_NE(dermlens::model::content_key(a), dermlens::model::content_key(b));
    EXPECT_NE(dermlens::model::content_key({}), 0u);  // 0 marks text
}

}  // namespace
