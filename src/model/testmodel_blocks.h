// Internal: keys and tensor groups shared by the gemma3, llava and qwen2vl test models (weight
// matrices, norms, a ViT vision tower and its clip.vision.* keys), so each
// generator only spells out what is specific to its architecture.
#pragma once

#include "model/testmodel_writer.h"

#include <array>
#include <cstdint>
#include <string>

namespace dermlens::testmodel {

// general.file_type value (llama_ftype) for a model whose matrices are `type`.
std::uint32_t file_type_of(ggml_type type);

// Weight matrix {ne0 = inputs, ne1 = outputs}, uniform with std 1/sqrt(inputs)
// so activations keep their scale; stored as `type` (f16 where rows do not fit its blocks).
void add_matrix(GgufWriter & gguf, const std::string & name, std::int64_t inputs, std::int64_t outputs, ggml_type type);
void add_norm(GgufWriter & gguf, const std::string & name, std::int64_t size);  // f32, all ones
void add_bias(GgufWriter & gguf, const std::string & name, std::int64_t size);  // f32, small random
// <prefix>.weight as add_matrix plus <prefix>.bias.
void add_linear(GgufWriter & gguf, const std::string & prefix, std::int64_t inputs, std::int64_t outputs, ggml_type type);

// The general.* and <arch>.* hyperparameters every libllama text architecture reads.
struct LlmKeys {
    std::string arch;
    std::string name;
    std::uint32_t context_length;
    std::int64_t n_embd;
    std::int64_t n_layer;
    std::int64_t n_ff;
    std::int64_t n_head;
    std::int64_t n_head_kv;
    float rms_eps;
    float rope_freq_base;
};
void set_llm_keys(GgufWriter & gguf, const LlmKeys & keys, ggml_type type);

struct VitShape {
    std::int64_t image_size;
    std::int64_t patch_size;
    std::int64_t n_embd;
    std::int64_t n_ff;
    std::int64_t n_layer;
    std::int64_t n_head;
    std::int64_t n_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
};

// Which optional ViT tensors a family has (CLIP: class embedding + pre-norm; SigLIP: patch bias + post-norm).
struct VitLayout {
    bool class_embedding;
    bool patch_bias;
    bool pre_norm;
    bool post_norm;
};

struct VitPreprocess {
    std::array<float, 3> mean;
    std::array<float, 3> std;
    float norm_eps;
    bool use_gelu;  // false: quick GELU (CLIP)
};

// clip.* keys for a vision-only projector of `projector_type` feeding a text model of width projection_dim.
void set_vit_keys(GgufWriter & gguf, const VitShape & shape, const VitPreprocess & preprocess,
                  const std::string & projector_type, std::int64_t projection_dim, ggml_type type);

// v.* tensors: patch/position embeddings and n_layer pre-norm transformer blocks
// (layer norms with bias, q/k/v/out with bias, up/down FFN with bias).
void add_vit(GgufWriter & gguf, const VitShape & shape, const VitLayout & layout, ggml_type type);

}  // namespace dermlens::testmodel
