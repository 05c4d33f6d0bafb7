#include "model/testmodel_blocks.h"

#include "llama.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

namespace dermlens::testmodel {

namespace {

constexpr float kBiasStddev = 0.02f;

// Patch and position embeddings stay f32 whatever the requested type: the
// convolution and the additions that use them need float inputs.
void add_embeddings(GgufWriter & gguf, const VitShape & shape, const VitLayout & layout, ggml_type type) {
    const ggml_type kernel_type = type == GGML_TYPE_F32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
    const float patch_stddev = 1.0f / std::sqrt(static_cast<float>(shape.patch_size * shape.patch_size * 3));
    gguf.add_tensor("v.patch_embd.weight", {shape.patch_size, shape.patch_size, 3, shape.n_embd}, kernel_type,
                    Fill::random(patch_stddev));
    if (layout.patch_bias) {
        add_bias(gguf, "v.patch_embd.bias", shape.n_embd);
    }
    const std::int64_t n_positions = shape.n_patches() + (layout.class_embedding ? 1 : 0);
    if (layout.class_embedding) {
        gguf.add_tensor("v.class_embd", {shape.n_embd}, GGML_TYPE_F32, Fill::random(kBiasStddev));
    }
    gguf.add_tensor("v.position_embd.weight", {shape.n_embd, n_positions}, GGML_TYPE_F32, Fill::random(kBiasStddev));
}

void add_norm_with_bias(GgufWriter & gguf, const std::string & prefix, std::int64_t size) {
    add_norm(gguf, prefix + ".weight", size);
    add_bias(gguf, prefix + ".bias", size);
}

}  // namespace

std::uint32_t file_type_of(ggml_type type) {
    switch (type) {
        case GGML_TYPE_F32: return LLAMA_FTYPE_ALL_F32;
        case GGML_TYPE_Q8_0: return LLAMA_FTYPE_MOSTLY_Q8_0;
        default: return LLAMA_FTYPE_MOSTLY_F16;
    }
}

void add_matrix(GgufWriter & gguf, const std::string & name, std::int64_t inputs, std::int64_t outputs, ggml_type type) {
    gguf.add_tensor(name, {inputs, outputs}, matrix_type(type, inputs),
                    Fill::random(1.0f / std::sqrt(static_cast<float>(inputs))));
}

void add_norm(GgufWriter & gguf, const std::string & name, std::int64_t size) {
    gguf.add_tensor(name, {size}, GGML_TYPE_F32, Fill::constant(1.0f));
}

void add_bias(GgufWriter & gguf, const std::string & name, std::int64_t size) {
    gguf.add_tensor(name, {size}, GGML_TYPE_F32, Fill::random(kBiasStddev));
}

void add_linear(GgufWriter & gguf, const std::string & prefix, std::int64_t inputs, std::int64_t outputs, ggml_type type) {
    add_matrix(gguf, prefix + ".weight", inputs, outputs, type);
    add_bias(gguf, prefix + ".bias", outputs);
}

void set_llm_keys(GgufWriter & gguf, const LlmKeys & keys, ggml_type type) {
    const std::string & arch = keys.arch;
    gguf.set_str("general.architecture", arch);
    gguf.set_str("general.name", keys.name);
    gguf.set_u32("general.file_type", file_type_of(type));
    gguf.set_u32(arch + ".context_length", keys.context_length);
    gguf.set_u32(arch + ".embedding_length", static_cast<std::uint32_t>(keys.n_embd));
    gguf.set_u32(arch + ".block_count", static_cast<std::uint32_t>(keys.n_layer));
    gguf.set_u32(arch + ".feed_forward_length", static_cast<std::uint32_t>(keys.n_ff));
    gguf.set_u32(arch + ".attention.head_count", static_cast<std::uint32_t>(keys.n_head));
    gguf.set_u32(arch + ".attention.head_count_kv", static_cast<std::uint32_t>(keys.n_head_kv));
    gguf.set_f32(arch + ".attention.layer_norm_rms_epsilon", keys.rms_eps);
    gguf.set_f32(arch + ".rope.freq_base", keys.rope_freq_base);
}

void set_vit_keys(GgufWriter & gguf, const VitShape & shape, const VitPreprocess & preprocess,
                  const std::string & projector_type, std::int64_t projection_dim, ggml_type type) {
    gguf.set_str("general.architecture", "clip");
    gguf.set_u32("general.file_type", file_type_of(type));
    gguf.set_bool("clip.has_vision_encoder", true);
    gguf.set_str("clip.projector_type", projector_type);
    gguf.set_bool("clip.use_gelu", preprocess.use_gelu);
    gguf.set_u32("clip.vision.image_size", static_cast<std::uint32_t>(shape.image_size));
    gguf.set_u32("clip.vision.patch_size", static_cast<std::uint32_t>(shape.patch_size));
    gguf.set_u32("clip.vision.embedding_length", static_cast<std::uint32_t>(shape.n_embd));
    gguf.set_u32("clip.vision.feed_forward_length", static_cast<std::uint32_t>(shape.n_ff));
    gguf.set_u32("clip.vision.block_count", static_cast<std::uint32_t>(shape.n_layer));
    gguf.set_u32("clip.vision.attention.head_count", static_cast<std::uint32_t>(shape.n_head));
    gguf.set_u32("clip.vision.projection_dim", static_cast<std::uint32_t>(projection_dim));
    gguf.set_f32("clip.vision.attention.layer_norm_epsilon", preprocess.norm_eps);
    gguf.set_arr_f32("clip.vision.image_mean", std::vector<float>(preprocess.mean.begin(), preprocess.mean.end()));
    gguf.set_arr_f32("clip.vision.image_std", std::vector<float>(preprocess.std.begin(), preprocess.std.end()));
}

void add_vit(GgufWriter & gguf, const VitShape & shape, const VitLayout & layout, ggml_type type) {
    add_embeddings(gguf, shape, layout, type);
    if (layout.pre_norm) {
        add_norm_with_bias(gguf, "v.pre_ln", shape.n_embd);
    }
    for (std::int64_t layer = 0; layer < shape.n_layer; ++layer) {
        const std::string block = fmt::format("v.blk.{}", layer);
        add_norm_with_bias(gguf, block + ".ln1", shape.n_embd);
        add_linear(gguf, block + ".attn_q", shape.n_embd, shape.n_embd, type);
        add_linear(gguf, block + ".attn_k", shape.n_embd, shape.n_embd, type);
        add_linear(gguf, block + ".attn_v", shape.n_embd, shape.n_embd, type);
        add_linear(gguf, block + ".attn_out", shape.n_embd, shape.n_embd, type);
        add_norm_with_bias(gguf, block + ".ln2", shape.n_embd);
        // up is {n_embd, n_ff}, down {n_ff, n_embd}: the orientation clip.cpp expects without swapping
        add_linear(gguf, block + ".ffn_up", shape.n_embd, shape.n_ff, type);
        add_linear(gguf, block + ".ffn_down", shape.n_ff, shape.n_embd, type);
    }
    if (layout.post_norm) {
        add_norm_with_bias(gguf, "v.post_ln", shape.n_embd);
    }
}

}  // namespace dermlens::testmodel
