// One attention op timed on the CPU, flash against plain, at a model's real shapes: the
// timing source of `auto` flash attention (attention_choice.h) and of `dermlens bench-cpu`.
//
// The two paths are built as the graphs that run them build them (pinned llama.cpp):
//   vision (libmtmd clip_graph::build_attn): Q, K, V in F32 from the projections; flash casts
//     K and V to F16 and calls ggml_flash_attn_ext; plain makes V contiguous transposed, then
//     mul_mat(K, Q), soft_max_ext, mul_mat(V, KQ) and a contiguous permute; no mask.
//   text (libllama build_attn_mha, a prefill ubatch): K and V in F16 from the KV cache (V
//     transposed for plain), a causal mask (F16 for flash, F32 for plain).
// Heads are independent in both paths, so the vision benchmark times a few of the encoder's
// heads at its full token count: the same per-head work and score-matrix size, a fraction of
// the memory (the plain path's score matrix is tokens^2 x heads floats: 1 GiB for Gemma 3).
#pragma once

#include <filesystem>
#include <string>

namespace dermlens::model {

struct AttentionShape {
    std::string graph;   // "vision" | "text"
    int queries = 0;     // query tokens
    int keys = 0;        // key/value tokens
    int head_dim = 0;
    int heads = 0;       // query heads timed
    int kv_heads = 0;    // key/value heads timed (grouped-query attention: heads % kv_heads == 0)
    int model_heads = 0; // the model's query heads (heads is at most this)

    // "vision 4096x4096 tokens, 2 of 16 heads x 72" — part of the remembered decision's key.
    std::string describe() const;
};

// The vision encoder's attention at its real token count ((image_size / patch_size)^2, the
// native resolution of a fixed-size encoder; dynamic-resolution encoders are timed at that
// size too). Throws Error(InvalidModel) naming the file when the mmproj lacks the sizes.
AttentionShape vision_attention_shape(const std::filesystem::path & mmproj_path);

// The text model's attention over one prefill ubatch of `tokens` tokens (a causal square).
AttentionShape text_attention_shape(const std::filesystem::path & model_path, int tokens);

// Milliseconds of one run of the path on ggml's CPU backend with `threads` threads (inputs
// filled once per call, graph allocated outside the timed part).
double time_attention_ms(const AttentionShape & shape, bool flash, int threads);

// True when ggml has a GPU device: the graphs then run there, and llama.cpp's own `auto` (flash
// attention where the device supports it) decides, not a CPU benchmark.
bool has_gpu_device();

// The CPU's model name (/proc/cpuinfo) and the features ggml's CPU backend was built for and
// found ("AMD EPYC 7B13 | SSE3 AVX AVX2 F16C FMA ..."): part of a decision's key.
std::string cpu_description();

}  // namespace dermlens::model
