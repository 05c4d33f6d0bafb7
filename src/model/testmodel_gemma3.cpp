// Gemma 3 / MedGemma layout: text arch `gemma3` (GQA, q/k norms, post-attention
// and post-FFN norms, tied embeddings, interleaved sliding-window layers) and
// a SigLIP vision tower with the `gemma3` projector (average-pool the patch
// grid by 4 per side, RMS-norm, project to the text width).
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
    std::int64_t n_head_kv;
    std::int64_t head_dim;
    std::int64_t n_ff;
    std::uint32_t context_length;
    std::uint32_t sliding_window;
    std::uint32_t sliding_window_pattern;  // 0: llama.cpp's Gemma 3 default (every 6th layer global)
    float rope_linear_factor;              // 0: no rope scaling
    std::size_t vocab_size;                // 0: the spm vocabulary plus Gemma's control tokens
};

struct Preset {
    TextShape text;
    VitShape vision;
};

// Tiny: 4x4 pooled grid = 16 image tokens; pattern 2 makes layer 0 sliding and
// layer 1 global so both attention paths run; head_dim * n_head != n_embd as in the real model.
constexpr Preset kTiny{
    {64, 2, 4, 2, 32, 128, 4096, 128, 2, 0.0f, 0},
    {224, 14, 64, 128, 2, 4},
};

// google/gemma-3-4b-it (MedGemma 4B): SigLIP-so400m at 896 px, 256 image tokens.
constexpr Preset kGemma3_4b{
    {2560, 34, 8, 4, 256, 10240, 131072, 1024, 0, 8.0f, 262144},
    {896, 14, 1152, 4304, 27, 16},
};

constexpr std::int64_t kPoolPerSide = 4;  // the projector's fixed average-pool kernel

// Gains of the post-attention and post-FFN norms. With random weights and unit
// gains, the attention output (an average over the context) dominates and
// greedy decoding locks onto one token; a weaker attention branch and a
// stronger FFN branch make the next token vary with the input and the image.
constexpr float kPostAttentionGain = 0.5f;
constexpr float kPostFfnGain = 4.0f;

constexpr const char * kChatTemplate =
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<start_of_turn>{% if message['role'] == 'assistant' %}model{% else %}{{ message['role'] }}{% endif %}\n"
    "{{ message['content'] | trim }}<end_of_turn>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}";

const Preset & preset_for(const Options & options) {
    if (options.preset == "tiny") {
        return kTiny;
    }
    if (options.preset == "gemma3-4b") {
        return kGemma3_4b;
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("preset '{}' is not a gemma3 preset", options.preset),
                "preset");
}

// The spm vocabulary with the turn and image markers Gemma's prompt format and
// mtmd's gemma3 image wrapping use, as control tokens.
Vocab gemma_vocab(std::size_t vocab_size) {
    Vocab vocab = Vocab::load("ggml-vocab-llama-spm.gguf");
    for (const char * marker : {"<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>"}) {
        vocab.append_token(marker, TokenType::Control);
    }
    vocab.pad_to(vocab_size);
    return vocab;
}

void set_text_keys(GgufWriter & gguf, const TextShape & shape, ggml_type type, const std::string & preset) {
    set_llm_keys(gguf,
                 {"gemma3", "dermlens test gemma3 " + preset, shape.context_length, shape.n_embd, shape.n_layer,
                  shape.n_ff, shape.n_head, shape.n_head_kv, 1e-6f, 1000000.0f},
                 type);
    gguf.set_u32("gemma3.attention.key_length", static_cast<std::uint32_t>(shape.head_dim));
    gguf.set_u32("gemma3.attention.value_length", static_cast<std::uint32_t>(shape.head_dim));
    gguf.set_u32("gemma3.attention.sliding_window", shape.sliding_window);
    if (shape.sliding_window_pattern != 0) {
        gguf.set_u32("gemma3.attention.sliding_window_pattern", shape.sliding_window_pattern);
    }
    if (shape.rope_linear_factor != 0.0f) {
        gguf.set_str("gemma3.rope.scaling.type", "linear");
        gguf.set_f32("gemma3.rope.scaling.factor", shape.rope_linear_factor);
    }
    gguf.set_str("tokenizer.chat_template", kChatTemplate);
}

void add_text_tensors(GgufWriter & gguf, const TextShape & shape, std::int64_t n_vocab, ggml_type type) {
    const std::int64_t q_width = shape.n_head * shape.head_dim;
    const std::int64_t kv_width = shape.n_head_kv * shape.head_dim;
    // Tied embeddings (no output.weight), as in the released checkpoints.
    gguf.add_tensor("token_embd.weight", {shape.n_embd, n_vocab}, matrix_type(type, shape.n_embd),
                    Fill::random(1.0f / std::sqrt(static_cast<float>(shape.n_embd))));
    add_norm(gguf, "output_norm.weight", shape.n_embd);
    for (std::int64_t layer = 0; layer < shape.n_layer; ++layer) {
        const std::string block = fmt::format("blk.{}", layer);
        add_norm(gguf, block + ".attn_norm.weight", shape.n_embd);
        add_matrix(gguf, block + ".attn_q.weight", shape.n_embd, q_width, type);
        add_matrix(gguf, block + ".attn_k.weight", shape.n_embd, kv_width, type);
        add_matrix(gguf, block + ".attn_v.weight", shape.n_embd, kv_width, type);
        add_matrix(gguf, block + ".attn_output.weight", q_width, shape.n_embd, type);
        add_norm(gguf, block + ".attn_q_norm.weight", shape.head_dim);
        add_norm(gguf, block + ".attn_k_norm.weight", shape.head_dim);
        gguf.add_tensor(block + ".post_attention_norm.weight", {shape.n_embd}, GGML_TYPE_F32,
                        Fill::constant(kPostAttentionGain));
        add_norm(gguf, block + ".ffn_norm.weight", shape.n_embd);
        add_matrix(gguf, block + ".ffn_gate.weight", shape.n_embd, shape.n_ff, type);
        add_matrix(gguf, block + ".ffn_up.weight", shape.n_embd, shape.n_ff, type);
        add_matrix(gguf, block + ".ffn_down.weight", shape.n_ff, shape.n_embd, type);
        gguf.add_tensor(block + ".post_ffw_norm.weight", {shape.n_embd}, GGML_TYPE_F32, Fill::constant(kPostFfnGain));
    }
}

void write_text_model(const Options & options, const TextShape & shape, const std::filesystem::path & path) {
    const ggml_type type = parse_tensor_type(options.text_type, "text_type");
    const Vocab vocab = gemma_vocab(shape.vocab_size);
    GgufWriter gguf(options.seed);
    set_text_keys(gguf, shape, type, options.preset);
    gguf.set_vocab(vocab);
    add_text_tensors(gguf, shape, static_cast<std::int64_t>(vocab.size()), type);
    gguf.write(path);
}

void write_projector(const Options & options, const Preset & preset, const std::filesystem::path & path) {
    const ggml_type type = parse_tensor_type(options.mmproj_type, "mmproj_type");
    const VitShape & vision = preset.vision;
    if ((vision.image_size / vision.patch_size) % kPoolPerSide != 0) {
        throw Error(ErrorKind::InvalidArgument, "gemma3 test model: the patch grid must divide by the pooling kernel");
    }
    GgufWriter gguf(options.seed);
    gguf.set_str("general.name", "dermlens test gemma3 projector " + options.preset);
    set_vit_keys(gguf, vision, {{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}, 1e-6f, true}, "gemma3",
                 preset.text.n_embd, type);
    add_vit(gguf, vision, {false, true, false, true}, type);
    add_norm(gguf, "mm.soft_emb_norm.weight", vision.n_embd);
    // Stored {text width, vision width} and transposed by the graph; kept f16 like
    // llama.cpp's converter since quantized tensors cannot be transposed.
    const ggml_type projection_type = type == GGML_TYPE_F32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
    gguf.add_tensor("mm.input_projection.weight", {preset.text.n_embd, vision.n_embd}, projection_type,
                    Fill::random(1.0f / std::sqrt(static_cast<float>(vision.n_embd))));
    gguf.write(path);
}

}  // namespace

Files make_gemma3(const Options & options) {
    const Preset & preset = preset_for(options);
    const Files files{options.out_dir / kModelFileName, options.out_dir / kMmprojFileName};
    write_text_model(options, preset.text, files.model);
    write_projector(options, preset, files.mmproj);
    return files;
}

}  // namespace dermlens::testmodel
