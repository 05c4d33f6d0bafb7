// Building blocks for random-weight test models: a GGUF writer that streams
// deterministic tensor data to disk, and tokenizer vocabularies borrowed from
// llama.cpp's models/ggml-vocab-*.gguf files.
//
// Typical use (one writer per output file):
//
//   GgufWriter gguf(options.seed);
//   gguf.set_str("general.architecture", "gemma3");
//   gguf.set_u32("gemma3.block_count", 2);
//   Vocab vocab = Vocab::load("ggml-vocab-llama-spm.gguf");
//   vocab.append_token("<start_of_turn>", TokenType::Control);
//   gguf.set_vocab(vocab);
//   gguf.add_tensor("token_embd.weight", {n_embd, std::int64_t(vocab.size())}, GGML_TYPE_F16, Fill::random(0.02f));
//   gguf.add_tensor("output_norm.weight", {n_embd}, GGML_TYPE_F32, Fill::constant(1.0f));
//   gguf.write(out_dir / "model.gguf");
//
// Determinism: tensor values depend only on (seed, tensor name, element index),
// never on the order tensors are added, the platform or the standard library;
// files are byte-identical for the same seed and inputs.
#pragma once

#include "ggml.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct gguf_context;

namespace dermlens::testmodel {

// How a tensor's values are generated.
struct Fill {
    enum class Kind { Random, Constant };
    Kind kind = Kind::Constant;
    float value = 0.0f;  // Random: standard deviation (zero mean, uniform); Constant: the value

    static Fill random(float stddev) { return {Kind::Random, stddev}; }
    static Fill constant(float value) { return {Kind::Constant, value}; }
};

// Token types as stored in tokenizer.ggml.token_type (llama.cpp's llama_token_type).
enum class TokenType : std::int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

// A tokenizer vocabulary read from one of llama.cpp's vocab GGUFs; tokens can be
// appended (control tokens a model family needs) before it is written out.
class Vocab {
public:
    // Reads `file_name` from vocab_dir(); throws Error(InvalidModel) naming the
    // path when it is missing or not a tokenizer GGUF.
    static Vocab load(std::string_view file_name);

    Vocab(Vocab &&) noexcept;
    Vocab & operator=(Vocab &&) noexcept;
    ~Vocab();

    // Appends a token; returns its id. Throws if the text is already a token.
    std::int32_t append_token(const std::string & text, TokenType type);
    // Renames token `id` (a reserved slot such as "[PAD151652]") to `text` with
    // `type`, keeping ids stable where a model family defines its tokens inside the
    // base vocabulary. Throws if `id` is out of range or `text` is already a token.
    void replace_token(std::int32_t id, const std::string & text, TokenType type);
    // Appends "<unusedN>" tokens of type Unused until size() == n_tokens (real
    // vocabularies reserve such slots; Unused keeps them out of special-token matching).
    void pad_to(std::size_t n_tokens);

    std::size_t size() const { return tokens_.size(); }
    std::optional<std::int32_t> find(std::string_view text) const;

private:
    friend class GgufWriter;
    Vocab() = default;

    std::filesystem::path path_;
    std::vector<std::string> tokens_;
    std::vector<float> scores_;
    std::vector<std::int32_t> types_;
    std::unordered_map<std::string, std::int32_t> ids_;  // text -> id, for find() on 262k-token vocabularies
    std::unique_ptr<gguf_context, void (*)(gguf_context *)> source_{nullptr, nullptr};  // the other tokenizer.* keys
};

// Folder holding ggml-vocab-*.gguf: $DERMLENS_VOCAB_DIR if set, else llama.cpp's models/.
std::filesystem::path vocab_dir();

// "f32" | "f16" | "q8_0" -> ggml type; throws Error(InvalidArgument) naming `field` (Options::text_type, ...).
ggml_type parse_tensor_type(std::string_view name, std::string_view field);

// Type for a weight matrix stored as `requested`, falling back to f16 when its
// rows (ne0) are not a whole number of quantization blocks.
ggml_type matrix_type(ggml_type requested, std::int64_t ne0);

class GgufWriter {
public:
    explicit GgufWriter(std::uint64_t seed);
    GgufWriter(const GgufWriter &) = delete;
    GgufWriter & operator=(const GgufWriter &) = delete;
    ~GgufWriter();

    void set_str(const std::string & key, const std::string & value);
    void set_u32(const std::string & key, std::uint32_t value);
    void set_i32(const std::string & key, std::int32_t value);
    void set_f32(const std::string & key, float value);
    void set_bool(const std::string & key, bool value);
    void set_arr_f32(const std::string & key, const std::vector<float> & values);
    void set_arr_i32(const std::string & key, const std::vector<std::int32_t> & values);
    // Writes tokenizer.ggml.tokens/scores/token_type and copies every other
    // tokenizer.* key (model, pre, bos/eos ids, merges, ...) from the vocab's source file.
    void set_vocab(const Vocab & vocab);

    // Declares a tensor; shape is ggml order (ne0 = row length first). Data is
    // generated only in write(), one bounded chunk at a time.
    void add_tensor(const std::string & name, const std::vector<std::int64_t> & shape, ggml_type type, Fill fill);

    // Writes metadata, then streams every tensor's data; memory stays bounded
    // (a few MB) whatever the model size. Throws Error(Runtime) naming the path.
    void write(const std::filesystem::path & path) const;

private:
    struct TensorPlan {
        std::string name;
        Fill fill;
    };

    std::uint64_t seed_;
    gguf_context * gguf_;
    ggml_context * meta_;  // tensor descriptors only (no data)
    std::vector<TensorPlan> tensors_;
};

}  // namespace dermlens::testmodel
