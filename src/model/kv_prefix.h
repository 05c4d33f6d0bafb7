// What the text model's KV cache holds, item by item, so that the next prompt keeps the
// longest prefix it shares with the previous one and evaluates only the rest: the
// instruction text common to every image of a run, or the image and its description
// common to the turns of one diagnosis, is computed once.
//
// An item is one text token or one whole image (its tokens enter the cache together and
// are never split). Positions are tracked per item because an image can advance the
// position by fewer steps than it has tokens (M-RoPE models such as Qwen2-VL).
//
// Reuse stops at the start of a prompt chunk (the text before the image, the image, the
// text after it), and every chunk is evaluated whole: the logits then do not depend on
// what the cache held before (a batch split elsewhere changes them in the last digits),
// so the same prompt gives the same answer whatever came before it.
//
// The same prompt again (a client asking about the same image twice) evaluates nothing: the
// logits of a prompt's last item are kept with it, and they are the very numbers that
// evaluating its last chunk again would give. llama-server instead evaluates the last token
// alone again, which changes them in the last digits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace dermlens::model {

struct PromptItem {
    std::int32_t token = -1;      // the text token; -1 for an image
    std::uint64_t image_key = 0;  // identifies an image's embeddings (content hash); 0 for text
    int n_tokens = 1;             // KV cells the item fills
    int n_pos = 1;                // positions it advances
    bool chunk_start = false;     // the first item of a prompt chunk

    static PromptItem text(std::int32_t token, bool chunk_start) { return {token, 0, 1, 1, chunk_start}; }
    static PromptItem image(std::uint64_t key, int n_tokens, int n_pos) { return {-1, key, n_tokens, n_pos, true}; }
    bool is_image() const noexcept { return token < 0; }
    bool operator==(const PromptItem &) const = default;
};

class KvPrefix {
public:
    // How many leading items of `next` the cache holds already and can keep: whole chunks of
    // `next` only, leaving at least its last chunk to evaluate (the next token is read from
    // the logits of its last item).
    std::size_t reusable(const std::vector<PromptItem> & next) const;

    int position_after(std::size_t items) const;  // position of the item that follows the first `items`
    int tokens_in(std::size_t items) const;       // KV cells of the first `items` items
    // The first image's KV cells: {its first cell, its cell count}; {-1, 0} when none is cached.
    std::pair<int, int> image_cells() const;

    // Records the logits of the last item held now as those of a whole prompt.
    void keep_prompt_logits(const float * logits, std::size_t n_vocab);
    // The kept logits when `next` is exactly the prompt they came from (tokens generated after
    // it may follow in the cache); nullptr otherwise.
    const std::vector<float> * prompt_logits(const std::vector<PromptItem> & next) const;

    void truncate(std::size_t items);  // the cache was cut after the first `items` items
    void append(const PromptItem & item);
    void clear() { truncate(0); }
    std::size_t size() const noexcept { return items_.size(); }

private:
    std::vector<PromptItem> items_;
    std::vector<int> end_position_;  // position after each item
    std::vector<int> end_tokens_;    // KV cells after each item
    std::size_t prompt_items_ = 0;   // the items of the prompt whose logits are kept; 0: none
    std::vector<float> prompt_logits_;
};

// FNV-1a over the bytes of `values`: the key of an image's embeddings.
std::uint64_t content_key(const std::vector<float> & values);

}  // namespace dermlens::model
