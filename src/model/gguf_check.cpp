#include "model/gguf_check.h"
#include "model/llama_handles.h"

#include "dermlens/error.h"

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


void check_magic(const std::filesystem::path & path, std::string_view what) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        fail(path, what, "file not found");
    }
    if (!std::filesystem::is_regular_file(path, ec)) {
        fail(path, what, "not a regular file");
    }
    std::ifstream in(path, std::ios::binary);
    std::array<char, 4> magic{};
    if (!in.read(magic.data(), magic.size())) {
        fail(path, what, "not a GGUF file (shorter than the 4-byte magic)");
    }
    if (std::string_view(magic.data(), magic.size()) != "GGUF") {
        fail(path, what, "not a GGUF file (missing 'GGUF' magic)");
    }
}

// Parses the header only (no tensor data) and checks the file holds all tensor bytes.
GgufPtr open_header(const std::filesystem::path & path, std::string_view what) {
    check_magic(path, what);
    gguf_init_params params{};
    params.no_alloc = true;
    params.ctx = nullptr;
    GgufPtr ctx(gguf_init_from_file(path.c_str(), params));
    if (!ctx) {
        fail(path, what, "corrupt or truncated GGUF header");
    }
    std::uint64_t data_end = gguf_get_data_offset(ctx.get());
    for (std::int64_t i = 0; i < gguf_get_n_tensors(ctx.get()); ++i) {
        const std::uint64_t tensor_end = gguf_get_data_offset(ctx.get()) + gguf_get_tensor_offset(ctx.get(), i) +
                                         gguf_get_tensor_size(ctx.get(), i);
        data_end = std::max(data_end, tensor_end);
    }
    const std::uint64_t file_size = std::filesystem::file_size(path);
    if (file_size < data_end) {
        fail(path, what, fmt::format("truncated GGUF: tensor data needs {} bytes, file has {}", data_end, file_size));
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
