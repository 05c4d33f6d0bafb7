// The text model's attention probabilities, read while it decodes.
//
// llama.cpp names each layer's softmaxed attention "kq_soft_max-<layer>" (src/llama-graph.cpp,
// build_attn_mha), shaped [n_kv, n_tokens, n_head]: one row per query token of the batch over
// the KV cache's cells, padded past the cells in use (padding and masked cells hold 0). The
// tensor exists only without flash attention, so a Vlm capturing attention runs its text
// model with flash attention off. Vlm observes it through llama_context_params.cb_eval for the
// steps that choose a token: the prompt's last token (it chooses the first generated token,
// or the option letter scored) and each generated token evaluated after it.
//
// Keys are KV cells. dermlens fills the cache in prompt order from an empty cache or from a
// cut-back prefix, so cell i holds the prompt's i-th token; an image's tokens take one cell
// each even where they advance the position less (M-RoPE).
#pragma once

#include <cstddef>
#include <vector>

namespace dermlens::model {

// One query token's attention in every layer and head.
struct AttentionStep {
    int n_layers = 0;
    int n_heads = 0;
    int n_keys = 0;        // cells 0 .. n_keys-1 are in use (the query's own cell is the last)
    int image_begin = 0;   // the image's first cell
    int image_tokens = 0;  // cells image_begin .. image_begin + image_tokens - 1
    // n_layers x n_heads x n_keys probabilities, layer-major: each (layer, head) row sums to 1.
    std::vector<float> probabilities;

    const float * row(int layer, int head) const noexcept {
        return probabilities.data() + (static_cast<std::size_t>(layer) * static_cast<std::size_t>(n_heads) +
                                       static_cast<std::size_t>(head)) * static_cast<std::size_t>(n_keys);
    }
};

class AttentionObserver {
public:
    virtual ~AttentionObserver() = default;
    // Called once per token-choosing step, in order, after the step's decode.
    virtual void observe(const AttentionStep & step) = 0;
};

}  // namespace dermlens::model
