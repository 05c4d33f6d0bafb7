// Qwen2.5-VL layout: text arch `qwen2vl` (Qwen2 decoder with q/k/v biases,
// GQA, SwiGLU and M-RoPE sections) and the `qwen2.5vl_merger` vision tower
// (two-frame patch convolution, RMS-normed blocks with windowed attention and
// a full-attention layer every n_wa_pattern layers, SwiGLU FFN with biases,
// then a 2x2 patch merger MLP to the text width). Images keep their aspect
// ratio: one image token per 28x28 pixels after resizing to multiples of 28.
#include "model/testmodel_archs.h"
#include "model/testmodel_blocks.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::testmodel {

namespace {

struct TextShape {
    std::int64_t n_embd;
    std::int64_t n_layer;
    std::int64_t n_head;
    std::int64_t n_head_kv;
    std::int64_t n_ff;
    std::uint32_t context_length;
    std::array<std::int32_t, 4> rope_sections;  // M-RoPE (temporal, height, width, unused); sums to head_dim / 2
    bool tied_output;                           // no output.weight: logits reuse token_embd
    std::size_t vocab_size;                     // 0: the Qwen2 tokenizer's own size
    std::int64_t head_dim() const { return n_embd / n_head; }
};

struct Preset {
    TextShape text;
    VitShape vision;
    std::uint32_t n_wa_pattern;  // layers (i + 1) % n_wa_pattern == 0 attend globally, the rest within windows
};

// Tiny: 4 vision layers with pattern 2 so windowed and full attention both run;
// vision n_ff differs from n_embd so clip.cpp never mistakes up/down for swapped.
constexpr Preset kTiny{
    {32, 2, 2, 1, 64, 32768, {2, 3, 3, 0}, true, 0},
    {560, 14, 32, 64, 4, 2},
    2,
};

// Qwen/Qwen2.5-VL-7B-Instruct: full attention in vision layers 7, 15, 23, 31.
constexpr Preset kQwen25Vl7b{
    {3584, 28, 28, 4, 18944, 128000, {16, 24, 24, 0}, false, 152064},
    {560, 14, 1280, 3420, 32, 16},
    8,
};

constexpr const char * kVocabFile = "ggml-vocab-qwen2.gguf";
constexpr std::int64_t kMergedPatches = 4;  // the merger concatenates each 2x2 patch group

// Qwen2.5's added tokens at their released ids; the base vocabulary reserves
// these slots as [PADn], so renaming them keeps ids and vocabulary size.
struct AddedToken {
    std::int32_t id;
    const char * text;
    TokenType type;
};

constexpr std::array<AddedToken, 19> kAddedTokens{{
    {151646, "<|object_ref_start|>", TokenType::Control},
    {151647, "<|object_ref_end|>", TokenType::Control},
    {151648, "<|box_start|>", TokenType::Control},
    {151649, "<|box_end|>", TokenType::Control},
    {151650, "<|quad_start|>", TokenType::Control},
    {151651, "<|quad_end|>", TokenType::Control},
    {151652, "<|vision_start|>", TokenType::Control},
    {151653, "<|vision_end|>", TokenType::Control},
    {151654, "<|vision_pad|>", TokenType::Control},
    {151655, "<|image_pad|>", TokenType::Control},
    {151656, "<|video_pad|>", TokenType::Control},
    {151657, "<tool_call>", TokenType::UserDefined},
    {151658, "</tool_call>", TokenType::UserDefined},
    {151659, "<|fim_prefix|>", TokenType::Control},
    {151660, "<|fim_middle|>", TokenType::Control},
    {151661, "<|fim_suffix|>", TokenType::Control},
    {151662, "<|fim_pad|>", TokenType::Control},
    {151663, "<|repo_name|>", TokenType::Control},
    {151664, "<|file_sep|>", TokenType::Control},
}};

// ChatML with Qwen's default system turn; mtmd inserts <|vision_start|> ... <|vision_end|>
// around the image embeddings itself, so the template only passes the media marker through.
constexpr const char * kChatTemplate =
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

// CLIP normalisation, as in Qwen2.5-VL's preprocessor_config.json.
constexpr VitPreprocess kPreprocess{{0.48145466f, 0.4578275f, 0.40821073f},
                                    {0.26862954f, 0.26130258f, 0.27577711f},
                                    1e-6f,
                                    false};

const Preset & preset_for(const Options & options) {
    if (options.preset == "tiny") {
        return kTiny;
    }
    if (options.preset == "qwen2.5-vl-7b") {
        return kQwen25Vl7b;
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("preset '{}' is not a qwen2vl preset", options.preset),
                "preset");
}

Vocab qwen_vocab(std::size_t vocab_size) {
    Vocab vocab = Vocab::load(kVocabFile);
    for (const AddedToken & token : kAddedTokens) {
        vocab.replace_token(token.id, token.text, token.type);
    }
    vocab.pad_to(vocab_size);
    return vocab;
}

void set_text_keys(GgufWriter & gguf, const TextShape & shape, ggml_type type, const std::string & preset) {
    set_llm_keys(gguf,
                 {"qwen2vl", "dermlens test qwen2.5-vl " + preset, shape.context_length, shape.n_embd, shape.n_layer,
                  shape.n_ff, shape.n_head, shape.n_head_kv, 1e-6f, 1000000.0f},
                 type);
    gguf.set_arr_i32("qwen2vl.rope.dimension_sections",
                     std::vector<std::int32_t>(shape.rope_sections.begin(), shape.rope_sections.end()));
}

std::uint32_t token_id(const Vocab & vocab, std::string_view text) {
    const std::optional<std::int32_t> id = vocab.find(text);
    if (!id) {
        throw Error(ErrorKind::InvalidModel, fmt::format("vocab file '{}': no '{}' token", kVocabFile, text));
    }
    return static_cast<std::uint32_t>(*id);
}

// After set_vocab: the instruct model stops on <|im_end|> and prepends no BOS.
void set_chat_keys(GgufWriter & gguf, const Vocab & vocab) {
    gguf.set_u32("tokenizer.ggml.eos_token_id", token_id(vocab, "<|im_end|>"));
    gguf.set_bool("tokenizer.ggml.add_bos_token", false);
    gguf.set_str("tokenizer.chat_template", kChatTemplate);
}

void add_text_tensors(GgufWriter & gguf, const TextShape & shape, std::int64_t n_vocab, ggml_type type) {
    const std::int64_t kv_width = shape.n_head_kv * shape.head_dim();
    add_matrix(gguf, "token_embd.weight", shape.n_embd, n_vocab, type);
    add_norm(gguf, "output_norm.weight", shape.n_embd);
    if (!shape.tied_output) {
        add_matrix(gguf, "output.weight", shape.n_embd, n_vocab, type);
    }
    for (std::int64_t layer = 0; layer < shape.n_layer; ++layer) {
        const std::string block = fmt::format("blk.{}", layer);
        add_norm(gguf, block + ".attn_norm.weight", shape.n_embd);
        add_linear(gguf, block + ".attn_q", shape.n_embd, shape.n_embd, type);
        add_linear(gguf, block + ".attn_k", shape.n_embd, kv_width, type);
        add_linear(gguf, block + ".attn_v", shape.n_embd, kv_width, type);
        add_matrix(gguf, block + ".attn_output.weight", shape.n_embd, shape.n_embd, type);
        add_norm(gguf, block + ".ffn_norm.weight", shape.n_embd);
        add_matrix(gguf, block + ".ffn_gate.weight", shape.n_embd, shape.n_ff, type);
        add_matrix(gguf, block + ".ffn_up.weight", shape.n_embd, shape.n_ff, type);
        add_matrix(gguf, block + ".ffn_down.weight", shape.n_ff, shape.n_embd, type);
    }
}

void write_text_model(const Options & options, const TextShape & shape, const std::filesystem::path & path) {
    const ggml_type type = parse_tensor_type(options.text_type, "text_type");
    const Vocab vocab = qwen_vocab(shape.vocab_size);
    GgufWriter gguf(options.seed);
    set_text_keys(gguf, shape, type, options.preset);
    gguf.set_vocab(vocab);
    set_chat_keys(gguf, vocab);
    add_text_tensors(gguf, shape, static_cast<std::int64_t>(vocab.size()), type);
    gguf.write(path);
}

// The released Conv3d patch embedding over two frames, split by llama.cpp's
// converter into one 2D kernel per frame (a still image feeds both). Kernels stay
// f16/f32: the convolution cannot use quantized weights.
void add_patch_embeddings(GgufWriter & gguf, const VitShape & vision, ggml_type type) {
    const ggml_type kernel_type = type == GGML_TYPE_F32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
    const std::int64_t kernel_inputs = 2 * vision.patch_size * vision.patch_size * 3;
    const Fill fill = Fill::random(1.0f / std::sqrt(static_cast<float>(kernel_inputs)));
    const std::vector<std::int64_t> shape{vision.patch_size, vision.patch_size, 3, vision.n_embd};
    gguf.add_tensor("v.patch_embd.weight", shape, kernel_type, fill);
    gguf.add_tensor("v.patch_embd.weight.1", shape, kernel_type, fill);
}

void add_vision_blocks(GgufWriter & gguf, const VitShape & vision, ggml_type type) {
    for (std::int64_t layer = 0; layer < vision.n_layer; ++layer) {
        const std::string block = fmt::format("v.blk.{}", layer);
        add_norm(gguf, block + ".ln1.weight", vision.n_embd);
        add_linear(gguf, block + ".attn_q", vision.n_embd, vision.n_embd, type);
        add_linear(gguf, block + ".attn_k", vision.n_embd, vision.n_embd, type);
        add_linear(gguf, block + ".attn_v", vision.n_embd, vision.n_embd, type);
        add_linear(gguf, block + ".attn_out", vision.n_embd, vision.n_embd, type);
        add_norm(gguf, block + ".ln2.weight", vision.n_embd);
        add_linear(gguf, block + ".ffn_gate", vision.n_embd, vision.n_ff, type);
        add_linear(gguf, block + ".ffn_up", vision.n_embd, vision.n_ff, type);
        add_linear(gguf, block + ".ffn_down", vision.n_ff, vision.n_embd, type);
    }
}

// RMS norm (the merger's ln_q), then a GELU MLP over each 2x2 patch group.
void add_merger(GgufWriter & gguf, const VitShape & vision, std::int64_t text_width, ggml_type type) {
    const std::int64_t merged_width = kMergedPatches * vision.n_embd;
    add_norm(gguf, "v.post_ln.weight", vision.n_embd);
    add_linear(gguf, "mm.0", merged_width, merged_width, type);
    add_linear(gguf, "mm.2", merged_width, text_width, type);
}

void write_projector(const Options & options, const Preset & preset, const std::filesystem::path & path) {
    const ggml_type type = parse_tensor_type(options.mmproj_type, "mmproj_type");
    GgufWriter gguf(options.seed);
    gguf.set_str("general.name", "dermlens test qwen2.5-vl projector " + options.preset);
    set_vit_keys(gguf, preset.vision, kPreprocess, "qwen2.5vl_merger", preset.text.n_embd, type);
    gguf.set_bool("clip.use_silu", true);
    gguf.set_u32("clip.vision.n_wa_pattern", preset.n_wa_pattern);
    add_patch_embeddings(gguf, preset.vision, type);
    add_vision_blocks(gguf, preset.vision, type);
    add_merger(gguf, preset.vision, preset.text.n_embd, type);
    gguf.write(path);
}

}  // namespace

Files make_qwen2vl(const Options & options) {
    const Preset & preset = preset_for(options);
    const Files files{options.out_dir / kModelFileName, options.out_dir / kMmprojFileName};
    write_text_model(options, preset.text, files.model);
    write_projector(options, preset, files.mmproj);
    return files;
}

}  // namespace dermlens::testmodel
