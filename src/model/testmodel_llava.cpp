// LLaVA-1.5 layout: text arch `llama` (Vicuna: multi-head attention, untied
// output) and a CLIP ViT vision tower (class embedding, pre-norm, quick GELU)
// with the two-layer `mlp` projector. Only the tiny preset exists.
#include "model/testmodel_archs.h"
#include "model/testmodel_blocks.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <cmath>

namespace dermlens::testmodel {

namespace {

struct TextShape {
    std::int64_t n_embd;
    std::int64_t n_layer;
    std::int64_t n_head;
    std::int64_t n_ff;
    std::uint32_t context_length;
};

// Width 32 keeps the untied input and output embeddings (32000 rows each) small.
// 4x4 patches = 16 image tokens (the MLP projector keeps one token per patch).
constexpr TextShape kTinyText{32, 2, 4, 64, 4096};
constexpr VitShape kTinyVision{56, 14, 32, 64, 2, 4};
constexpr std::int64_t kProjectorHidden = 64;

// Vicuna v1.1 prompt format, the one LLaVA-1.5 was tuned on.
constexpr const char * kChatTemplate =
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}\n\n"
    "{% elif message['role'] == 'user' %}USER: {{ message['content'] }}\n"
    "{% else %}ASSISTANT: {{ message['content'] }}{{ eos_token }}\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT: {% endif %}";

void require_tiny(const Options & options) {
    if (options.preset != "tiny") {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("preset '{}': llava has only the 'tiny' preset", options.preset), "preset");
    }
}

void set_text_keys(GgufWriter & gguf, const TextShape & shape, ggml_type type) {
    set_llm_keys(gguf,
                 {"llama", "dermlens test llava tiny", shape.context_length, shape.n_embd, shape.n_layer, shape.n_ff,
                  shape.n_head, shape.n_head, 1e-5f, 10000.0f},
                 type);
    gguf.set_u32("llama.rope.dimension_count", static_cast<std::uint32_t>(shape.n_embd / shape.n_head));
    gguf.set_str("tokenizer.chat_template", kChatTemplate);
}

void add_text_tensors(GgufWriter & gguf, const TextShape & shape, std::int64_t n_vocab, ggml_type type) {
    gguf.add_tensor("token_embd.weight", {shape.n_embd, n_vocab}, matrix_type(type, shape.n_embd),
                    Fill::random(1.0f / std::sqrt(static_cast<float>(shape.n_embd))));
    add_norm(gguf, "output_norm.weight", shape.n_embd);
    add_matrix(gguf, "output.weight", shape.n_embd, n_vocab, type);
    for (std::int64_t layer = 0; layer < shape.n_layer; ++layer) {
        const std::string block = fmt::format("blk.{}", layer);
        add_norm(gguf, block + ".attn_norm.weight", shape.n_embd);
        add_matrix(gguf, block + ".attn_q.weight", shape.n_embd, shape.n_embd, type);
        add_matrix(gguf, block + ".attn_k.weight", shape.n_embd, shape.n_embd, type);
        add_matrix(gguf, block + ".attn_v.weight", shape.n_embd, shape.n_embd, type);
        add_matrix(gguf, block + ".attn_output.weight", shape.n_embd, shape.n_embd, type);
        add_norm(gguf, block + ".ffn_norm.weight", shape.n_embd);
        add_matrix(gguf, block + ".ffn_gate.weight", shape.n_embd, shape.n_ff, type);
        add_matrix(gguf, block + ".ffn_up.weight", shape.n_embd, shape.n_ff, type);
        add_matrix(gguf, block + ".ffn_down.weight", shape.n_ff, shape.n_embd, type);
    }
}

void write_text_model(const Options & options, const std::filesystem::path & path) {
    const ggml_type type = parse_tensor_type(options.text_type, "text_type");
    const Vocab vocab = Vocab::load("ggml-vocab-llama-spm.gguf");
    GgufWriter gguf(options.seed);
    set_text_keys(gguf, kTinyText, type);
    gguf.set_vocab(vocab);
    add_text_tensors(gguf, kTinyText, static_cast<std::int64_t>(vocab.size()), type);
    gguf.write(path);
}

void write_projector(const Options & options, const std::filesystem::path & path) {
    const ggml_type type = parse_tensor_type(options.mmproj_type, "mmproj_type");
    GgufWriter gguf(options.seed);
    gguf.set_str("general.name", "dermlens test llava projector tiny");
    // OpenAI CLIP normalisation; quick GELU as in CLIP ViT-L/14.
    set_vit_keys(gguf, kTinyVision,
                 {{0.48145466f, 0.4578275f, 0.40821073f}, {0.26862954f, 0.26130258f, 0.27577711f}, 1e-5f, false},
                 "mlp", kTinyText.n_embd, type);
    add_vit(gguf, kTinyVision, {true, false, true, false}, type);
    add_matrix(gguf, "mm.0.weight", kTinyVision.n_embd, kProjectorHidden, type);
    add_bias(gguf, "mm.0.bias", kProjectorHidden);
    add_matrix(gguf, "mm.2.weight", kProjectorHidden, kTinyText.n_embd, type);
    add_bias(gguf, "mm.2.bias", kTinyText.n_embd);
    gguf.write(path);
}

}  // namespace

Files make_llava(const Options & options) {
    require_tiny(options);
    const Files files{options.out_dir / kModelFileName, options.out_dir / kMmprojFileName};
    write_text_model(options, files.model);
    write_projector(options, files.mmproj);
    return files;
}

}  // namespace dermlens::testmodel
