#include "model/attention_bench.h"

#include "dermlens/error.h"
#include "model/gguf_check.h"

#include <ggml-alloc.h>
#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <ggml.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <random>
#include <vector>

namespace dermlens::model {
namespace {

// Vision heads timed: rows enough for many threads (2 x 4,096 for Gemma 3), an eighth of the
// whole encoder layer's attention, and of its 1 GiB score matrix.
constexpr int kVisionHeadsTimed = 2;

struct ContextFree {
    void operator()(ggml_context * ctx) const { ggml_free(ctx); }
};
struct BackendFree {
    void operator()(ggml_backend * backend) const { ggml_backend_free(backend); }
};
struct GallocrFree {
    void operator()(ggml_gallocr * galloc) const { ggml_gallocr_free(galloc); }
};

[[noreturn]] void fail_shape(const std::filesystem::path & path, const char * what, const std::string & reason) {
    throw Error(ErrorKind::InvalidModel, fmt::format("{} '{}': {}", what, path.string(), reason));
}

ggml_tensor * input(ggml_context * ctx, ggml_type type, std::int64_t ne0, std::int64_t ne1, std::int64_t ne2) {
    ggml_tensor * t = ggml_new_tensor_3d(ctx, type, ne0, ne1, ne2);
    ggml_set_input(t);
    return t;
}

// libmtmd's clip_graph::build_attn on Q, K, V of [head_dim, heads, tokens].
ggml_tensor * vision_attention(ggml_context * ctx, ggml_tensor * q_cur, ggml_tensor * k_cur, ggml_tensor * v_cur,
                               float scale, bool flash) {
    ggml_tensor * q = ggml_permute(ctx, q_cur, 0, 2, 1, 3);
    ggml_tensor * k = ggml_permute(ctx, k_cur, 0, 2, 1, 3);
    if (flash) {
        ggml_tensor * v = ggml_permute(ctx, v_cur, 0, 2, 1, 3);
        k = ggml_cast(ctx, k, GGML_TYPE_F16);
        v = ggml_cast(ctx, v, GGML_TYPE_F16);
        ggml_tensor * cur = ggml_flash_attn_ext(ctx, q, k, v, nullptr, scale, 0.0f, 0.0f);
        ggml_prec_set_acc(cur, GGML_PREC_F32);
        return ggml_reshape_2d(ctx, cur, cur->ne[0] * cur->ne[1], cur->ne[2] * cur->ne[3]);
    }
    ggml_tensor * v = ggml_cont(ctx, ggml_permute(ctx, v_cur, 1, 2, 0, 3));
    ggml_tensor * kq = ggml_soft_max_ext(ctx, ggml_mul_mat(ctx, k, q), nullptr, scale, 0.0f);
    ggml_tensor * cur = ggml_permute(ctx, ggml_mul_mat(ctx, v, kq), 0, 2, 1, 3);
    return ggml_cont_2d(ctx, cur, cur->ne[0] * cur->ne[1], cur->ne[2] * cur->ne[3]);
}

// libllama's build_attn_mha over a KV cache: Q [head_dim, heads, queries] in F32; K [head_dim,
// kv_heads, keys] in F16; V the same (flash) or transposed [keys, head_dim, kv_heads] (plain).
ggml_tensor * text_attention(ggml_context * ctx, ggml_tensor * q_cur, ggml_tensor * k_cache, ggml_tensor * v_cache,
                             ggml_tensor * mask, float scale, bool flash) {
    ggml_tensor * q = ggml_permute(ctx, q_cur, 0, 2, 1, 3);
    ggml_tensor * k = ggml_permute(ctx, k_cache, 0, 2, 1, 3);
    if (flash) {
        ggml_tensor * v = ggml_permute(ctx, v_cache, 0, 2, 1, 3);
        ggml_tensor * cur = ggml_flash_attn_ext(ctx, q, k, v, mask, scale, 0.0f, 0.0f);
        ggml_prec_set_acc(cur, GGML_PREC_F32);
        return ggml_reshape_2d(ctx, cur, cur->ne[0] * cur->ne[1], cur->ne[2] * cur->ne[3]);
    }
    ggml_tensor * kq = ggml_mul_mat(ctx, k, q);
    ggml_prec_set_acc(kq, GGML_PREC_F32);
    kq = ggml_soft_max_ext(ctx, kq, mask, scale, 0.0f);
    ggml_tensor * cur = ggml_permute(ctx, ggml_mul_mat(ctx, v_cache, kq), 0, 2, 1, 3);
    return ggml_cont_2d(ctx, cur, cur->ne[0] * cur->ne[1], cur->ne[2] * cur->ne[3]);
}

// Small random values (a softmax of them stays finite), or the causal mask.
void fill(ggml_tensor * t, std::mt19937 & rng, bool causal_mask) {
    const std::int64_t n = ggml_nelements(t);
    std::vector<float> values(static_cast<std::size_t>(n));
    if (causal_mask) {
        for (std::int64_t row = 0; row < t->ne[1]; ++row) {
            for (std::int64_t col = 0; col < t->ne[0]; ++col) {
                values[static_cast<std::size_t>(row * t->ne[0] + col)] = col <= row ? 0.0f : -INFINITY;
            }
        }
    } else {
        std::normal_distribution<float> normal(0.0f, 0.1f);
        std::generate(values.begin(), values.end(), [&] { return normal(rng); });
    }
    if (t->type == GGML_TYPE_F16) {
        std::vector<ggml_fp16_t> halves(values.size());
        ggml_fp32_to_fp16_row(values.data(), halves.data(), n);
        ggml_backend_tensor_set(t, halves.data(), 0, ggml_nbytes(t));
    } else {
        ggml_backend_tensor_set(t, values.data(), 0, ggml_nbytes(t));
    }
}

std::string first_cpuinfo_value(const char * field) {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(field, 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? "" : line.substr(line.find_first_not_of(' ', colon + 1));
        }
    }
    return "";
}

}  // namespace

std::string AttentionShape::describe() const {
    return fmt::format("{} {}x{} tokens, {} of {} heads x {}", graph, queries, keys, heads, model_heads, head_dim);
}

AttentionShape vision_attention_shape(const std::filesystem::path & mmproj_path) {
    const ProjectorInfo info = check_projector(mmproj_path);
    if (info.image_size <= 0 || info.patch_size <= 0 || info.encoder_width <= 0 || info.encoder_heads <= 0 ||
        info.encoder_width % info.encoder_heads != 0) {
        fail_shape(mmproj_path, "mmproj",
                   "no vision image_size, patch_size, embedding_length and attention.head_count to time its attention");
    }
    const auto side = static_cast<int>(info.image_size / info.patch_size);
    AttentionShape shape;
    shape.graph = "vision";
    shape.queries = shape.keys = side * side;
    shape.head_dim = static_cast<int>(info.encoder_width / info.encoder_heads);
    shape.model_heads = static_cast<int>(info.encoder_heads);
    shape.heads = shape.kv_heads = std::min(shape.model_heads, kVisionHeadsTimed);
    return shape;
}

AttentionShape text_attention_shape(const std::filesystem::path & model_path, int tokens) {
    const TextModelInfo info = check_text_model(model_path);
    if (info.attention_heads <= 0 || info.kv_heads <= 0 || info.head_dim <= 0 ||
        info.attention_heads % info.kv_heads != 0 || tokens < 1) {
        fail_shape(model_path, "model", "no attention.head_count, head_count_kv and head size to time its attention");
    }
    AttentionShape shape;
    shape.graph = "text";
    shape.queries = shape.keys = tokens;
    shape.head_dim = static_cast<int>(info.head_dim);
    shape.heads = shape.model_heads = static_cast<int>(info.attention_heads);
    shape.kv_heads = static_cast<int>(info.kv_heads);
    return shape;
}

double time_attention_ms(const AttentionShape & shape, bool flash, int threads) {
    const bool text = shape.graph == "text";
    ggml_init_params params{};
    params.mem_size = ggml_tensor_overhead() * 64 + ggml_graph_overhead();
    params.no_alloc = true;
    std::unique_ptr<ggml_context, ContextFree> ctx(ggml_init(params));
    const ggml_type kv_type = text ? GGML_TYPE_F16 : GGML_TYPE_F32;
    ggml_tensor * q = input(ctx.get(), GGML_TYPE_F32, shape.head_dim, shape.heads, shape.queries);
    ggml_tensor * k = input(ctx.get(), kv_type, shape.head_dim, shape.kv_heads, shape.keys);
    ggml_tensor * v = text && !flash ? input(ctx.get(), kv_type, shape.keys, shape.head_dim, shape.kv_heads)
                                     : input(ctx.get(), kv_type, shape.head_dim, shape.kv_heads, shape.keys);
    ggml_tensor * mask =
        text ? input(ctx.get(), flash ? GGML_TYPE_F16 : GGML_TYPE_F32, shape.keys, shape.queries, 1) : nullptr;
    const float scale = 1.0f / std::sqrt(static_cast<float>(shape.head_dim));
    ggml_tensor * out = text ? text_attention(ctx.get(), q, k, v, mask, scale, flash)
                             : vision_attention(ctx.get(), q, k, v, scale, flash);
    ggml_cgraph * graph = ggml_new_graph(ctx.get());
    ggml_build_forward_expand(graph, out);

    std::unique_ptr<ggml_backend, BackendFree> backend(ggml_backend_cpu_init());
    ggml_backend_cpu_set_n_threads(backend.get(), threads);
    std::unique_ptr<ggml_gallocr, GallocrFree> galloc(ggml_gallocr_new(ggml_backend_get_default_buffer_type(backend.get())));
    if (!ggml_gallocr_alloc_graph(galloc.get(), graph)) {
        throw Error(ErrorKind::Runtime, fmt::format("could not allocate the attention benchmark ({})", shape.describe()));
    }
    std::mt19937 rng(42);
    for (ggml_tensor * t : {q, k, v}) {
        fill(t, rng, false);
    }
    if (mask) {
        fill(mask, rng, true);
    }
    const auto start = std::chrono::steady_clock::now();
    if (ggml_backend_graph_compute(backend.get(), graph) != GGML_STATUS_SUCCESS) {
        throw Error(ErrorKind::Runtime, fmt::format("the attention benchmark failed ({})", shape.describe()));
    }
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

bool has_gpu_device() {
    for (std::size_t i = 0; i < ggml_backend_dev_count(); ++i) {
        const enum ggml_backend_dev_type type = ggml_backend_dev_type(ggml_backend_dev_get(i));
        if (type == GGML_BACKEND_DEVICE_TYPE_GPU || type == GGML_BACKEND_DEVICE_TYPE_IGPU) {
            return true;
        }
    }
    return false;
}

std::string cpu_description() {
    std::string out = first_cpuinfo_value("model name");
    if (out.empty()) {
        out = "unknown CPU";
    }
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU));
    auto get_features = reinterpret_cast<ggml_backend_get_features_t>(
        ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features"));
    out += " |";
    for (const ggml_backend_feature * f = get_features ? get_features(reg) : nullptr; f && f->name; ++f) {
        out += std::string_view(f->value) == "1" ? fmt::format(" {}", f->name) : fmt::format(" {}={}", f->name, f->value);
    }
    return out;
}

}  // namespace dermlens::model
