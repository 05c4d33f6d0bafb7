#include "model/kv_prefix.h"

#include <algorithm>
#include <cstring>

namespace dermlens::model {

std::size_t KvPrefix::reusable(const std::vector<PromptItem> & next) const {
    const std::size_t limit = std::min(items_.size(), next.empty() ? 0 : next.size() - 1);
    std::size_t common = 0;
    while (common < limit && items_[common] == next[common]) {
        ++common;
    }
    while (common > 0 && !next[common].chunk_start) {
        --common;
    }
    return common;
}

int KvPrefix::position_after(std::size_t items) const {
    return items == 0 ? 0 : end_position_[items - 1];
}

int KvPrefix::tokens_in(std::size_t items) const {
    return items == 0 ? 0 : end_tokens_[items - 1];
}

std::pair<int, int> KvPrefix::image_cells() const {
    for (std::size_t i = 0; i < items_.size(); ++i) {
        if (items_[i].is_image()) {
            return {tokens_in(i), items_[i].n_tokens};
        }
    }
    return {-1, 0};
}

void KvPrefix::keep_prompt_logits(const float * logits, std::size_t n_vocab) {
    prompt_items_ = items_.size();
    prompt_logits_.assign(logits, logits + n_vocab);
}

const std::vector<float> * KvPrefix::prompt_logits(const std::vector<PromptItem> & next) const {
    const bool same = prompt_items_ > 0 && next.size() == prompt_items_ &&
                      std::equal(next.begin(), next.end(), items_.begin());
    return same ? &prompt_logits_ : nullptr;
}

void KvPrefix::truncate(std::size_t items) {
    items = std::min(items, items_.size());
    if (items < prompt_items_) {
        prompt_items_ = 0;
        prompt_logits_.clear();
    }
    items_.resize(items);
    end_position_.resize(items);
    end_tokens_.resize(items);
}

void KvPrefix::append(const PromptItem & item) {
    end_position_.push_back(position_after(items_.size()) + item.n_pos);
    end_tokens_.push_back(tokens_in(items_.size()) + item.n_tokens);
    items_.push_back(item);
}

std::uint64_t content_key(const std::vector<float> & values) {
    std::uint64_t hash = 14695981039346656037ull;
    const auto * bytes = reinterpret_cast<const unsigned char *>(values.data());
    for (std::size_t i = 0; i < values.size() * sizeof(float); ++i) {
        hash = (hash ^ bytes[i]) * 1099511628211ull;
    }
    return hash == 0 ? 1 : hash;  // 0 marks text items
}

}  // namespace dermlens::model
