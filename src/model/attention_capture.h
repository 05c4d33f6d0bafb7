// Reads "kq_soft_max-<layer>" out of the text model's graph while llama_decode computes it
// (llama_context_params.cb_eval), for the one query token of a decode that chooses the next
// token: the last row of the batch. Armed only around those decodes, so other decodes (the
// prompt's earlier batches, the image) run as fast as without a callback.
#pragma once

#include "model/attention_tap.h"

#include <string>
#include <vector>

struct ggml_tensor;

namespace dermlens::model {

class AttentionCapture {
public:
    explicit AttentionCapture(int n_layers) : n_layers_(n_layers) {}

    // The next decode's last query token sees cells 0 .. n_keys-1; the image is at `image_cells`.
    void arm(int n_keys, int image_begin, int image_tokens);
    void disarm() noexcept { armed_ = false; }

    // The step captured since arm(): every layer's rows, checked (throws Error(Runtime) when a
    // layer is missing, e.g. flash attention on, or the probabilities lie outside the cells in use).
    AttentionStep take();

    // ggml_backend_sched_eval_callback.
    static bool observe(ggml_tensor * tensor, bool ask, void * user_data);

private:
    void record(const ggml_tensor * tensor, int layer);

    int n_layers_;
    bool armed_ = false;
    std::string error_;
    std::vector<bool> seen_;
    AttentionStep step_;
};

}  // namespace dermlens::model
