#include "model/gguf_check.h"
#include "model/llama_handles.h"

#include "dermlens/error.h"

#include <ggml.h>
#include <gguf.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace dermlens::model {
namespace {

// Text architectures whose vision pairing dermlens has been tested with
// (Gemma 3 / MedGemma; Qwen2-VL and Qwen2.5-VL, both "qwen2vl"; LLaVA-1.5 on llama).
constexpr std::array<std::string_view, 4> kTextArchitectures{"gemma3", "qwen2vl", "qwen2", "llama"};

struct ProjectorOutput {
    std::string_view projector_type;
    std::string_view tensor;  // the tensor whose shape gives the output width
    int axis;                 // which axis of that tensor holds it
};

// Mirrors how libmtmd derives each projector's output width (clip_n_mmproj_embd).
constexpr std::array<ProjectorOutput, 4> kProjectors{{
    {"gemma3", "mm.input_projection.weight", 0},
    {"mlp", "mm.2.weight", 1},
    {"qwen2vl_merger", "mm.2.bias", 0},
    {"qwen2.5vl_merger", "mm.2.bias", 0},
}};

[[noreturn]] void fail(const std::filesystem::path & path, std::string_view what, const std::string & reason) {
    throw Error(ErrorKind::InvalidModel, fmt::format("{} '{}': {}", what, path.string(), reason));
}


// Limits checked on the fixed-size preamble before ggml's parser sees the file (docs/fuzzing.md):
// ggml compares every tensor name with every earlier one, so a header of millions of tiny tensor
// entries would take minutes; real models have a few thousand tensors and a few hundred keys.
constexpr std::uint64_t kMaxTensors = 16384;
constexpr std::uint64_t kMaxKeyValues = 16384;

std::uint64_t little_endian(const std::array<unsigned char, 24> & bytes, std::size_t offset, std::size_t size) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < size; ++i) {
        value |= static_cast<std::uint64_t>(bytes[offset + i]) << (8 * i);
    }
    return value;
}

// Magic, version, tensor and key-value counts: the 24 bytes before the first key.
void check_preamble(const std::filesystem::path & path, std::string_view what) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        fail(path, what, "file not found");
    }
    if (!std::filesystem::is_regular_file(path, ec)) {
        fail(path, what, "not a regular file");
    }
    std::ifstream in(path, std::ios::binary);
    std::array<unsigned char, 24> preamble{};
    in.read(reinterpret_cast<char *>(preamble.data()), preamble.size());
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got < 4) {
        fail(path, what, "not a GGUF file (shorter than the 4-byte magic)");
    }
    if (std::string_view(reinterpret_cast<const char *>(preamble.data()), 4) != "GGUF") {
        fail(path, what, "not a GGUF file (missing 'GGUF' magic)");
    }
    if (got < preamble.size()) {
        fail(path, what, "corrupt or truncated GGUF header");
    }
    const std::uint64_t tensors = little_endian(preamble, 8, 8);
    const std::uint64_t key_values = little_endian(preamble, 16, 8);
    if (tensors > kMaxTensors || key_values > kMaxKeyValues) {
        fail(path, what, fmt::format("GGUF header lists {} tensors and {} keys; dermlens reads at most {} and {}",
                                     tensors, key_values, kMaxTensors, kMaxKeyValues));
    }
}

// The bytes of tensor `i`'s data, computed without overflow; nullopt when they exceed 64 bits.
// ggml's own count (gguf.cpp) multiplies the dimensions before checking them, so a crafted
// shape can wrap around it: the pre-check does not rely on ggml's arithmetic.
std::optional<std::uint64_t> tensor_bytes(const gguf_context * ctx, std::int64_t i) {
    const std::int64_t * ne = gguf_get_tensor_ne(ctx, i);
    const ggml_type type = gguf_get_tensor_type(ctx, i);
    const auto block = static_cast<std::uint64_t>(ggml_blck_size(type));
    std::uint64_t bytes = 0;
    if (block == 0 || ne[0] < 0 || static_cast<std::uint64_t>(ne[0]) % block != 0 ||
        __builtin_mul_overflow(static_cast<std::uint64_t>(ne[0]) / block, ggml_type_size(type), &bytes)) {
        return std::nullopt;
    }
    for (int axis = 1; axis < GGML_MAX_DIMS; ++axis) {
        if (ne[axis] < 0 || __builtin_mul_overflow(bytes, static_cast<std::uint64_t>(ne[axis]), &bytes)) {
            return std::nullopt;
        }
    }
    return bytes;
}

// Parses the header only (no tensor data) and checks the file holds all tensor bytes.
GgufPtr open_header(const std::filesystem::path & path, std::string_view what) {
    check_preamble(path, what);
    gguf_init_params params{};
    params.no_alloc = true;
    params.ctx = nullptr;
    GgufPtr ctx(gguf_init_from_file(path.c_str(), params));
    if (!ctx) {
        fail(path, what, "corrupt or truncated GGUF header");
    }
    const std::uint64_t file_size = std::filesystem::file_size(path);
    const std::uint64_t data_offset = gguf_get_data_offset(ctx.get());
    for (std::int64_t i = 0; i < gguf_get_n_tensors(ctx.get()); ++i) {
        const auto bytes = tensor_bytes(ctx.get(), i);
        const std::uint64_t offset = gguf_get_tensor_offset(ctx.get(), i);
        std::uint64_t end = 0;
        if (!bytes || __builtin_add_overflow(data_offset, offset, &end) || __builtin_add_overflow(end, *bytes, &end)) {
            fail(path, what, fmt::format("tensor '{}' has a shape or offset beyond any file size",
                                         gguf_get_tensor_name(ctx.get(), i)));
        }
        if (end > file_size) {
            fail(path, what,
                 fmt::format("truncated GGUF: tensor data needs {} bytes, file has {}", end, file_size));
        }
    }
    return ctx;
}

std::optional<std::string> string_value(const gguf_context * ctx, const std::string & key) {
    const std::int64_t id = gguf_find_key(ctx, key.c_str());
    if (id < 0 || gguf_get_kv_type(ctx, id) != GGUF_TYPE_STRING) {
        return std::nullopt;
    }
    return std::string(gguf_get_val_str(ctx, id));
}

std::optional<std::int64_t> integer_value(const gguf_context * ctx, const std::string & key) {
    const std::int64_t id = gguf_find_key(ctx, key.c_str());
    if (id < 0) {
        return std::nullopt;
    }
    switch (gguf_get_kv_type(ctx, id)) {
        case GGUF_TYPE_UINT32: return gguf_get_val_u32(ctx, id);
        case GGUF_TYPE_INT32: return gguf_get_val_i32(ctx, id);
        case GGUF_TYPE_UINT64: return static_cast<std::int64_t>(gguf_get_val_u64(ctx, id));
        case GGUF_TYPE_INT64: return gguf_get_val_i64(ctx, id);
        default: return std::nullopt;
    }
}

std::vector<float> float_array(const gguf_context * ctx, const std::string & key) {
    const std::int64_t id = gguf_find_key(ctx, key.c_str());
    if (id < 0 || gguf_get_kv_type(ctx, id) != GGUF_TYPE_ARRAY || gguf_get_arr_type(ctx, id) != GGUF_TYPE_FLOAT32) {
        return {};
    }
    const auto * data = static_cast<const float *>(gguf_get_arr_data(ctx, id));
    return std::vector<float>(data, data + gguf_get_arr_n(ctx, id));
}

bool bool_value(const gguf_context * ctx, const std::string & key) {
    const std::int64_t id = gguf_find_key(ctx, key.c_str());
    return id >= 0 && gguf_get_kv_type(ctx, id) == GGUF_TYPE_BOOL && gguf_get_val_bool(ctx, id);
}

std::string supported_list() {
    std::string list;
    for (const auto arch : kTextArchitectures) {
        list += list.empty() ? "" : ", ";
        list += arch;
    }
    return list;
}

std::int64_t projector_output_dim(const gguf_context * ctx, const std::filesystem::path & path,
                                  const std::string & projector_type) {
    const auto known = std::find_if(kProjectors.begin(), kProjectors.end(),
                                    [&](const ProjectorOutput & p) { return p.projector_type == projector_type; });
    if (known == kProjectors.end()) {
        fail(path, "mmproj", fmt::format("unsupported projector type '{}' (supported: gemma3, mlp, qwen2vl_merger, "
                                         "qwen2.5vl_merger)", projector_type));
    }
    const std::int64_t tensor = gguf_find_tensor(ctx, std::string(known->tensor).c_str());
    if (tensor < 0) {
        fail(path, "mmproj", fmt::format("projector tensor '{}' is missing", known->tensor));
    }
    return gguf_get_tensor_ne(ctx, tensor)[known->axis];
}

}  // namespace

TextModelInfo check_text_model(const std::filesystem::path & model_path) {
    const auto ctx = open_header(model_path, "model");
    const auto arch = string_value(ctx.get(), "general.architecture");
    if (!arch) {
        fail(model_path, "model", "no general.architecture key");
    }
    if (*arch == "clip") {
        fail(model_path, "model", "this is a vision projector (mmproj), not a text model; give it as the mmproj");
    }
    if (std::find(kTextArchitectures.begin(), kTextArchitectures.end(), *arch) == kTextArchitectures.end()) {
        fail(model_path, "model",
             fmt::format("unsupported architecture '{}' (supported: {})", *arch, supported_list()));
    }
    const auto n_embd = integer_value(ctx.get(), *arch + ".embedding_length");
    if (!n_embd || *n_embd <= 0) {
        fail(model_path, "model", fmt::format("missing or invalid {}.embedding_length", *arch));
    }
    TextModelInfo info{*arch, *n_embd};
    info.attention_heads = integer_value(ctx.get(), *arch + ".attention.head_count").value_or(0);
    info.kv_heads = integer_value(ctx.get(), *arch + ".attention.head_count_kv").value_or(info.attention_heads);
    info.head_dim = integer_value(ctx.get(), *arch + ".attention.key_length")
                        .value_or(info.attention_heads > 0 ? *n_embd / info.attention_heads : 0);
    return info;
}

ProjectorInfo check_projector(const std::filesystem::path & mmproj_path) {
    const auto ctx = open_header(mmproj_path, "mmproj");
    const auto arch = string_value(ctx.get(), "general.architecture");
    if (arch != "clip") {
        fail(mmproj_path, "mmproj",
             fmt::format("not a vision projector (general.architecture is '{}', expected 'clip')",
                         arch.value_or("missing")));
    }
    if (!bool_value(ctx.get(), "clip.has_vision_encoder")) {
        fail(mmproj_path, "mmproj", "has no vision encoder (clip.has_vision_encoder is not true)");
    }
    const auto projector_type = string_value(ctx.get(), "clip.projector_type");
    if (!projector_type) {
        fail(mmproj_path, "mmproj", "no clip.projector_type key");
    }
    ProjectorInfo info;
    info.projector_type = *projector_type;
    info.output_dim = projector_output_dim(ctx.get(), mmproj_path, *projector_type);
    info.encoder_width = integer_value(ctx.get(), "clip.vision.embedding_length").value_or(0);
    info.encoder_layers = integer_value(ctx.get(), "clip.vision.block_count").value_or(0);
    info.encoder_heads = integer_value(ctx.get(), "clip.vision.attention.head_count").value_or(0);
    info.image_size = integer_value(ctx.get(), "clip.vision.image_size").value_or(0);
    info.patch_size = integer_value(ctx.get(), "clip.vision.patch_size").value_or(0);
    info.min_pixels = integer_value(ctx.get(), "clip.vision.image_min_pixels").value_or(0);
    info.max_pixels = integer_value(ctx.get(), "clip.vision.image_max_pixels").value_or(0);
    info.image_mean = float_array(ctx.get(), "clip.vision.image_mean");
    info.image_std = float_array(ctx.get(), "clip.vision.image_std");
    info.has_post_norm = gguf_find_tensor(ctx.get(), "v.post_ln.weight") >= 0;
    info.post_norm_has_bias = gguf_find_tensor(ctx.get(), "v.post_ln.bias") >= 0;
    info.has_feature_layers = gguf_find_key(ctx.get(), "clip.vision.feature_layer") >= 0;
    return info;
}

ProjectorInfo check_model_pair(const std::filesystem::path & model_path, const std::filesystem::path & mmproj_path) {
    const TextModelInfo text = check_text_model(model_path);
    ProjectorInfo projector = check_projector(mmproj_path);
    if (projector.output_dim != text.embedding_length) {
        fail(mmproj_path, "mmproj",
             fmt::format("does not belong to model '{}': projector output width {} != {}.embedding_length {}",
                         model_path.string(), projector.output_dim, text.architecture, text.embedding_length));
    }
    return projector;
}

}  // namespace dermlens::model
