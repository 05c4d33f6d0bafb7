#include "model/attention_capture.h"

#include "dermlens/error.h"

#include <ggml-backend.h>
#include <ggml.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>

namespace dermlens::model {
namespace {

constexpr const char * kPrefix = "kq_soft_max-";

// The layer of a "kq_soft_max-<layer>" node; -1 for any other node.
int softmax_layer(const char * name) {
    const std::size_t prefix = std::strlen(kPrefix);
    if (std::strncmp(name, kPrefix, prefix) != 0) {
        return -1;
    }
    char * end = nullptr;
    const long layer = std::strtol(name + prefix, &end, 10);
    return end != name + prefix && *end == '\0' ? static_cast<int>(layer) : -1;
}

}  // namespace

void AttentionCapture::arm(int n_keys, int image_begin, int image_tokens) {
    armed_ = true;
    error_.clear();
    seen_.assign(static_cast<std::size_t>(n_layers_), false);
    step_ = AttentionStep{};
    step_.n_layers = n_layers_;
    step_.n_keys = n_keys;
    step_.image_begin = image_begin;
    step_.image_tokens = image_tokens;
}

bool AttentionCapture::observe(ggml_tensor * tensor, bool ask, void * user_data) {
    auto & self = *static_cast<AttentionCapture *>(user_data);
    const int layer = self.armed_ ? softmax_layer(tensor->name) : -1;
    if (layer < 0) {
        return !ask;  // asked: not wanted; computed: keep going
    }
    if (!ask) {
        self.record(tensor, layer);
    }
    return true;
}

// The tensor is [n_kv, n_tokens, n_head, n_stream]; the batch's last query row is kept, and a
// later ubatch of the same decode overwrites an earlier one's (the last token comes last).
void AttentionCapture::record(const ggml_tensor * tensor, int layer) {
    if (layer >= n_layers_) {
        error_ = fmt::format("attention of layer {} in a model of {} layers", layer, n_layers_);
        return;
    }
    if (tensor->type != GGML_TYPE_F32 || !ggml_is_contiguous(tensor) || tensor->ne[3] != 1 ||
        tensor->ne[0] < step_.n_keys) {
        error_ = fmt::format("'{}' is {} [{}, {}, {}, {}]; expected contiguous f32 with at least {} keys and one "
                             "stream",
                             tensor->name, ggml_type_name(tensor->type), tensor->ne[0], tensor->ne[1], tensor->ne[2],
                             tensor->ne[3], step_.n_keys);
        return;
    }
    const auto n_heads = static_cast<int>(tensor->ne[2]);
    if (step_.n_heads == 0) {
        step_.n_heads = n_heads;
        step_.probabilities.assign(static_cast<std::size_t>(n_layers_) * static_cast<std::size_t>(n_heads) *
                                       static_cast<std::size_t>(step_.n_keys),
                                   0.0f);
    } else if (n_heads != step_.n_heads) {
        error_ = fmt::format("layer {} has {} attention heads, layer 0 {}", layer, n_heads, step_.n_heads);
        return;
    }
    const std::size_t last_row = static_cast<std::size_t>(tensor->ne[1] - 1);
    const auto n_keys = static_cast<std::size_t>(step_.n_keys);
    for (int head = 0; head < n_heads; ++head) {
        const std::size_t offset = static_cast<std::size_t>(head) * tensor->nb[2] + last_row * tensor->nb[1];
        float * row = step_.probabilities.data() +
                      (static_cast<std::size_t>(layer) * static_cast<std::size_t>(n_heads) + static_cast<std::size_t>(head)) * n_keys;
        ggml_backend_tensor_get(tensor, row, offset, n_keys * sizeof(float));
    }
    seen_[static_cast<std::size_t>(layer)] = true;
}

AttentionStep AttentionCapture::take() {
    armed_ = false;
    if (!error_.empty()) {
        throw Error(ErrorKind::Runtime, "attention capture: " + error_);
    }
    const auto missing = std::find(seen_.begin(), seen_.end(), false);
    if (missing != seen_.end()) {
        throw Error(ErrorKind::Runtime,
                    fmt::format("attention capture: the text model computed no attention probabilities for layer {} "
                                "(flash attention must be off)",
                                missing - seen_.begin()));
    }
    // Every row sums to 1 over the cells in use; mass elsewhere would mean the cells do not
    // hold the prompt in order, and the image block would be misplaced.
    for (int layer = 0; layer < step_.n_layers; ++layer) {
        for (int head = 0; head < step_.n_heads; ++head) {
            const float * row = step_.row(layer, head);
            const double sum = std::accumulate(row, row + step_.n_keys, 0.0);
            if (std::abs(sum - 1.0) > 1e-3) {
                throw Error(ErrorKind::Runtime,
                            fmt::format("attention capture: layer {} head {} puts {:.4f} of its attention on the {} "
                                        "cells the prompt fills, not 1",
                                        layer, head, sum, step_.n_keys));
            }
        }
    }
    return std::move(step_);
}

}  // namespace dermlens::model
