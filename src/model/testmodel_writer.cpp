#include "model/testmodel_writer.h"

#include "dermlens/error.h"

#include "gguf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef DERMLENS_LLAMA_VOCAB_DIR
#error "DERMLENS_LLAMA_VOCAB_DIR must name llama.cpp's models/ folder"
#endif

namespace dermlens::testmodel {

namespace {

constexpr std::size_t kMaxTensors = 8192;
constexpr std::size_t kChunkElements = std::size_t{1} << 20;  // generation buffer: 4 MB of f32

constexpr const char * kTokensKey = "tokenizer.ggml.tokens";
constexpr const char * kScoresKey = "tokenizer.ggml.scores";
constexpr const char * kTypesKey = "tokenizer.ggml.token_type";

// SplitMix64: a counter-based generator, so element i of a tensor is a pure
// function of (tensor stream, i) and the same on every platform.
std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

// FNV-1a of the tensor name mixed with the seed: one independent stream per tensor.
std::uint64_t tensor_stream(std::uint64_t seed, const std::string & name) {
    std::uint64_t hash = 0xCBF29CE484222325ULL;
    for (const unsigned char c : name) {
        hash = (hash ^ c) * 0x100000001B3ULL;
    }
    return splitmix64(hash ^ splitmix64(seed));
}

void fill_chunk(const Fill & fill, std::uint64_t stream, std::size_t first, std::vector<float> & out) {
    if (fill.kind == Fill::Kind::Constant) {
        std::fill(out.begin(), out.end(), fill.value);
        return;
    }
    // Uniform on [-a, a] has standard deviation a / sqrt(3).
    const float half_width = fill.value * std::sqrt(3.0f);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const std::uint64_t bits = splitmix64(stream + first + i);
        const float unit = static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);  // [0, 1), 24 bits
        out[i] = (2.0f * unit - 1.0f) * half_width;
    }
}

gguf_context * read_gguf_metadata(const std::filesystem::path & path) {
    gguf_init_params params{};
    params.no_alloc = true;
    params.ctx = nullptr;
    return gguf_init_from_file(path.c_str(), params);
}

// Copies key `key_id` of `src` into `dst` (all GGUF value types llama.cpp vocabularies use).
void copy_kv(gguf_context * dst, const gguf_context * src, std::int64_t key_id) {
    const char * key = gguf_get_key(src, key_id);
    switch (gguf_get_kv_type(src, key_id)) {
        case GGUF_TYPE_STRING: gguf_set_val_str(dst, key, gguf_get_val_str(src, key_id)); break;
        case GGUF_TYPE_BOOL: gguf_set_val_bool(dst, key, gguf_get_val_bool(src, key_id)); break;
        case GGUF_TYPE_UINT32: gguf_set_val_u32(dst, key, gguf_get_val_u32(src, key_id)); break;
        case GGUF_TYPE_INT32: gguf_set_val_i32(dst, key, gguf_get_val_i32(src, key_id)); break;
        case GGUF_TYPE_FLOAT32: gguf_set_val_f32(dst, key, gguf_get_val_f32(src, key_id)); break;
        case GGUF_TYPE_UINT64: gguf_set_val_u64(dst, key, gguf_get_val_u64(src, key_id)); break;
        case GGUF_TYPE_ARRAY: {
            const std::size_t n = gguf_get_arr_n(src, key_id);
            const gguf_type element_type = gguf_get_arr_type(src, key_id);
            if (element_type == GGUF_TYPE_STRING) {
                std::vector<const char *> strings(n);
                for (std::size_t i = 0; i < n; ++i) {
                    strings[i] = gguf_get_arr_str(src, key_id, i);
                }
                gguf_set_arr_str(dst, key, strings.data(), n);
            } else {
                gguf_set_arr_data(dst, key, element_type, gguf_get_arr_data(src, key_id), n);
            }
            break;
        }
        default:
            throw Error(ErrorKind::InvalidModel,
                        fmt::format("vocab key '{}': unsupported GGUF type {}", key,
                                    gguf_type_name(gguf_get_kv_type(src, key_id))));
    }
}

std::int64_t require_array(const gguf_context * gguf, const char * key, gguf_type element_type,
                           const std::filesystem::path & path) {
    const std::int64_t id = gguf_find_key(gguf, key);
    if (id < 0 || gguf_get_kv_type(gguf, id) != GGUF_TYPE_ARRAY || gguf_get_arr_type(gguf, id) != element_type) {
        throw Error(ErrorKind::InvalidModel,
                    fmt::format("vocab file '{}': no {} array of {}", path.string(), key, gguf_type_name(element_type)));
    }
    return id;
}

[[noreturn]] void throw_write_error(const std::filesystem::path & path) {
    throw Error(ErrorKind::Runtime, fmt::format("cannot write '{}': {}", path.string(), std::strerror(errno)));
}

void write_bytes(std::FILE * file, const void * data, std::size_t size, const std::filesystem::path & path) {
    if (size > 0 && std::fwrite(data, 1, size, file) != size) {
        throw_write_error(path);
    }
}

struct FileCloser {
    void operator()(std::FILE * file) const { std::fclose(file); }
};

}  // namespace

// ---- Vocab ----

std::filesystem::path vocab_dir() {
    if (const char * env = std::getenv("DERMLENS_VOCAB_DIR"); env != nullptr && *env != '\0') {
        return env;
    }
    return DERMLENS_LLAMA_VOCAB_DIR;
}

Vocab::Vocab(Vocab &&) noexcept = default;
Vocab & Vocab::operator=(Vocab &&) noexcept = default;
Vocab::~Vocab() = default;

Vocab Vocab::load(std::string_view file_name) {
    Vocab vocab;
    vocab.path_ = vocab_dir() / file_name;
    if (!std::filesystem::is_regular_file(vocab.path_)) {
        throw Error(ErrorKind::InvalidModel,
                    fmt::format("vocab file '{}' not found (set DERMLENS_VOCAB_DIR to llama.cpp's models/ folder)",
                                vocab.path_.string()));
    }
    vocab.source_ = {read_gguf_metadata(vocab.path_), gguf_free};
    if (!vocab.source_) {
        throw Error(ErrorKind::InvalidModel, fmt::format("vocab file '{}': not a GGUF file", vocab.path_.string()));
    }
    const gguf_context * src = vocab.source_.get();
    const std::int64_t tokens_id = require_array(src, kTokensKey, GGUF_TYPE_STRING, vocab.path_);
    const std::size_t n = gguf_get_arr_n(src, tokens_id);
    vocab.tokens_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        vocab.tokens_.emplace_back(gguf_get_arr_str(src, tokens_id, i));
        vocab.ids_.emplace(vocab.tokens_.back(), static_cast<std::int32_t>(i));
    }
    // BPE vocabularies may lack scores; llama.cpp then treats all scores as 0.
    if (const std::int64_t scores_id = gguf_find_key(src, kScoresKey); scores_id >= 0) {
        require_array(src, kScoresKey, GGUF_TYPE_FLOAT32, vocab.path_);
        const auto * scores = static_cast<const float *>(gguf_get_arr_data(src, scores_id));
        vocab.scores_.assign(scores, scores + gguf_get_arr_n(src, scores_id));
    } else {
        vocab.scores_.assign(n, 0.0f);
    }
    const std::int64_t types_id = require_array(src, kTypesKey, GGUF_TYPE_INT32, vocab.path_);
    const auto * types = static_cast<const std::int32_t *>(gguf_get_arr_data(src, types_id));
    vocab.types_.assign(types, types + gguf_get_arr_n(src, types_id));
    if (vocab.scores_.size() != n || vocab.types_.size() != n) {
        throw Error(ErrorKind::InvalidModel,
                    fmt::format("vocab file '{}': tokens, scores and token types differ in length", vocab.path_.string()));
    }
    return vocab;
}

std::int32_t Vocab::append_token(const std::string & text, TokenType type) {
    if (find(text)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("vocab '{}': token '{}' already exists", path_.string(), text));
    }
    const auto id = static_cast<std::int32_t>(tokens_.size());
    tokens_.push_back(text);
    scores_.push_back(0.0f);
    types_.push_back(static_cast<std::int32_t>(type));
    ids_.emplace(text, id);
    return id;
}

void Vocab::replace_token(std::int32_t id, const std::string & text, TokenType type) {
    if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("vocab '{}': token id {} is outside 0..{}", path_.string(), id, tokens_.size() - 1));
    }
    if (find(text)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("vocab '{}': token '{}' already exists", path_.string(), text));
    }
    const auto index = static_cast<std::size_t>(id);
    if (const auto old = ids_.find(tokens_[index]); old != ids_.end() && old->second == id) {
        ids_.erase(old);
    }
    ids_.emplace(text, id);
    tokens_[index] = text;
    scores_[index] = 0.0f;
    types_[index] = static_cast<std::int32_t>(type);
}

void Vocab::pad_to(std::size_t n_tokens) {
    for (std::size_t unused = 0; tokens_.size() < n_tokens; ++unused) {
        append_token(fmt::format("<unused{}>", unused), TokenType::Unused);
    }
}

std::optional<std::int32_t> Vocab::find(std::string_view text) const {
    const auto it = ids_.find(std::string(text));
    if (it == ids_.end()) {
        return std::nullopt;
    }
    return it->second;
}

// ---- tensor types ----

ggml_type parse_tensor_type(std::string_view name, std::string_view field) {
    if (name == "f32") {
        return GGML_TYPE_F32;
    }
    if (name == "f16") {
        return GGML_TYPE_F16;
    }
    if (name == "q8_0") {
        return GGML_TYPE_Q8_0;
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("{} '{}': unknown tensor type (valid: f32, f16, q8_0)", field, name),
                std::string(field));
}

ggml_type matrix_type(ggml_type requested, std::int64_t ne0) {
    return ne0 % ggml_blck_size(requested) == 0 ? requested : GGML_TYPE_F16;
}

// ---- GgufWriter ----

GgufWriter::GgufWriter(std::uint64_t seed) : seed_(seed), gguf_(gguf_init_empty()) {
    ggml_init_params params{};
    params.mem_size = kMaxTensors * ggml_tensor_overhead();
    params.mem_buffer = nullptr;
    params.no_alloc = true;
    meta_ = ggml_init(params);
    if (gguf_ == nullptr || meta_ == nullptr) {
        throw Error(ErrorKind::Runtime, "test model writer: cannot allocate GGUF metadata");
    }
}

GgufWriter::~GgufWriter() {
    ggml_free(meta_);
    gguf_free(gguf_);
}

void GgufWriter::set_str(const std::string & key, const std::string & value) {
    gguf_set_val_str(gguf_, key.c_str(), value.c_str());
}
void GgufWriter::set_u32(const std::string & key, std::uint32_t value) { gguf_set_val_u32(gguf_, key.c_str(), value); }
void GgufWriter::set_i32(const std::string & key, std::int32_t value) { gguf_set_val_i32(gguf_, key.c_str(), value); }
void GgufWriter::set_f32(const std::string & key, float value) { gguf_set_val_f32(gguf_, key.c_str(), value); }
void GgufWriter::set_bool(const std::string & key, bool value) { gguf_set_val_bool(gguf_, key.c_str(), value); }

void GgufWriter::set_arr_f32(const std::string & key, const std::vector<float> & values) {
    gguf_set_arr_data(gguf_, key.c_str(), GGUF_TYPE_FLOAT32, values.data(), values.size());
}

void GgufWriter::set_arr_i32(const std::string & key, const std::vector<std::int32_t> & values) {
    gguf_set_arr_data(gguf_, key.c_str(), GGUF_TYPE_INT32, values.data(), values.size());
}

void GgufWriter::set_vocab(const Vocab & vocab) {
    const gguf_context * src = vocab.source_.get();
    for (std::int64_t id = 0; id < gguf_get_n_kv(src); ++id) {
        const std::string_view key = gguf_get_key(src, id);
        if (key.starts_with("tokenizer.") && key != kTokensKey && key != kScoresKey && key != kTypesKey) {
            copy_kv(gguf_, src, id);
        }
    }
    std::vector<const char *> tokens(vocab.tokens_.size());
    std::transform(vocab.tokens_.begin(), vocab.tokens_.end(), tokens.begin(), [](const std::string & t) { return t.c_str(); });
    gguf_set_arr_str(gguf_, kTokensKey, tokens.data(), tokens.size());
    gguf_set_arr_data(gguf_, kScoresKey, GGUF_TYPE_FLOAT32, vocab.scores_.data(), vocab.scores_.size());
    gguf_set_arr_data(gguf_, kTypesKey, GGUF_TYPE_INT32, vocab.types_.data(), vocab.types_.size());
}

void GgufWriter::add_tensor(const std::string & name, const std::vector<std::int64_t> & shape, ggml_type type, Fill fill) {
    if (shape.empty() || shape.size() > GGML_MAX_DIMS || name.size() >= GGML_MAX_NAME) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("test model tensor '{}': bad name or rank", name));
    }
    if (shape[0] % ggml_blck_size(type) != 0) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("test model tensor '{}': row of {} is not a multiple of the {} block size",
                                name, shape[0], ggml_type_name(type)));
    }
    if (tensors_.size() == kMaxTensors) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("test model: more than {} tensors", kMaxTensors));
    }
    ggml_tensor * tensor = ggml_new_tensor(meta_, type, static_cast<int>(shape.size()), shape.data());
    ggml_set_name(tensor, name.c_str());
    gguf_add_tensor(gguf_, tensor);
    tensors_.push_back({name, fill});
}

void GgufWriter::write(const std::filesystem::path & path) const {
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
    if (!file) {
        throw_write_error(path);
    }
    std::vector<std::uint8_t> meta(gguf_get_meta_size(gguf_));
    gguf_get_meta_data(gguf_, meta.data());
    write_bytes(file.get(), meta.data(), meta.size(), path);

    const std::size_t alignment = gguf_get_alignment(gguf_);
    const std::vector<std::uint8_t> padding(alignment, 0);
    std::vector<float> values;
    std::vector<std::uint8_t> encoded;
    for (std::int64_t id = 0; id < gguf_get_n_tensors(gguf_); ++id) {
        const ggml_type type = gguf_get_tensor_type(gguf_, id);
        const std::int64_t row_length = gguf_get_tensor_ne(gguf_, id)[0];
        const std::size_t row_bytes = ggml_row_size(type, row_length);
        const std::size_t n_rows = gguf_get_tensor_size(gguf_, id) / row_bytes;
        const std::size_t rows_per_chunk = std::max<std::size_t>(1, kChunkElements / static_cast<std::size_t>(row_length));
        const TensorPlan & plan = tensors_[static_cast<std::size_t>(id)];
        const std::uint64_t stream = tensor_stream(seed_, plan.name);

        for (std::size_t first_row = 0; first_row < n_rows; first_row += rows_per_chunk) {
            const std::size_t rows = std::min(rows_per_chunk, n_rows - first_row);
            values.resize(rows * static_cast<std::size_t>(row_length));
            encoded.resize(rows * row_bytes);
            fill_chunk(plan.fill, stream, first_row * static_cast<std::size_t>(row_length), values);
            ggml_quantize_chunk(type, values.data(), encoded.data(), 0, static_cast<std::int64_t>(rows), row_length, nullptr);
            write_bytes(file.get(), encoded.data(), encoded.size(), path);
        }
        const std::size_t size = gguf_get_tensor_size(gguf_, id);
        write_bytes(file.get(), padding.data(), GGML_PAD(size, alignment) - size, path);
    }
    if (std::fflush(file.get()) != 0) {
        throw_write_error(path);
    }
}

}  // namespace dermlens::testmodel
