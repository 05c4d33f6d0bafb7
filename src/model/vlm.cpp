#include "model/vlm.h"

#include "dermlens/error.h"
#include "model/gguf_check.h"
#include "model/llama_handles.h"

#include <llama.h>
#include <mtmd-helper.h>
#include <mtmd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace dermlens::model {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void discard_log(ggml_log_level, const char *, void *) {}

void stderr_log(ggml_log_level, const char * text, void *) {
    std::fputs(text, stderr);
}

// llama.cpp's log callbacks are process-wide; the last Vlm constructed decides.
void configure_logging(bool verbose) {
    const ggml_log_callback callback = verbose ? stderr_log : discard_log;
    llama_log_set(callback, nullptr);
    mtmd_helper_log_set(callback, nullptr);
}

void init_backend_once() {
    static std::once_flag once;
    std::call_once(once, [] { llama_backend_init(); });
}

llama_flash_attn_type to_llama(FlashAttention mode) {
    switch (mode) {
        case FlashAttention::On: return LLAMA_FLASH_ATTN_TYPE_ENABLED;
        case FlashAttention::Off: return LLAMA_FLASH_ATTN_TYPE_DISABLED;
        case FlashAttention::Auto: return LLAMA_FLASH_ATTN_TYPE_AUTO;
    }
    return LLAMA_FLASH_ATTN_TYPE_AUTO;
}

void require_positive(int value, const char * name) {
    if (value <= 0) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("{} must be positive (got {})", name, value));
    }
}

// One-token batch with an explicit position: M-RoPE models (Qwen2-VL) count
// positions differently from KV cells, so positions cannot be inferred.
class SingleTokenBatch {
public:
    SingleTokenBatch() : batch_(llama_batch_init(1, 0, 1)) {}
    ~SingleTokenBatch() { llama_batch_free(batch_); }
    SingleTokenBatch(const SingleTokenBatch &) = delete;
    SingleTokenBatch & operator=(const SingleTokenBatch &) = delete;

    llama_batch & set(llama_token token, llama_pos pos) {
        batch_.n_tokens = 1;
        batch_.token[0] = token;
        batch_.pos[0] = pos;
        batch_.n_seq_id[0] = 1;
        batch_.seq_id[0][0] = 0;
        batch_.logits[0] = 1;
        return batch_;
    }

private:
    llama_batch batch_;
};

}  // namespace

const char * flash_attention_name(FlashAttention mode) noexcept {
    switch (mode) {
        case FlashAttention::Auto: return "auto";
        case FlashAttention::On: return "on";
        case FlashAttention::Off: return "off";
    }
    return "auto";
}

FlashAttention parse_flash_attention(const std::string & text) {
    if (text == "auto") return FlashAttention::Auto;
    if (text == "on") return FlashAttention::On;
    if (text == "off") return FlashAttention::Off;
    throw Error(ErrorKind::InvalidArgument, fmt::format("flash attention must be on, off or auto (got '{}')", text));
}

const char * stop_reason_name(StopReason reason) noexcept {
    return reason == StopReason::EndOfGeneration ? "end_of_generation" : "max_tokens";
}

namespace {
double per_second(int count, double ms) noexcept {
    return ms > 0 ? count * 1000.0 / ms : 0.0;
}
}  // namespace

double Generation::prefill_tokens_per_s() const noexcept {
    return per_second(prompt_tokens, timings.prefill_ms);
}

double Generation::decode_tokens_per_s() const noexcept {
    return per_second(static_cast<int>(tokens.size()), timings.decode_ms);
}

void VlmParams::validate() const {
    if (model_path.empty()) {
        throw Error(ErrorKind::InvalidArgument, "a text model (--model) is required");
    }
    if (mmproj_path.empty()) {
        throw Error(ErrorKind::InvalidArgument, "a vision projector (--mmproj) is required");
    }
    require_positive(threads, "threads");
    require_positive(context_size, "context size");
    require_positive(batch_size, "batch size");
    require_positive(max_tokens, "max tokens");
    if (max_tokens >= context_size) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("max tokens ({}) must be smaller than the context size ({})", max_tokens, context_size));
    }
}

struct Vlm::Impl {
    VlmParams params;
    ModelPtr model;
    ContextPtr context;
    SamplerPtr sampler;
    MtmdPtr vision;
    std::string chat_template;
    const llama_vocab * vocab = nullptr;

    explicit Impl(VlmParams p) : params(std::move(p)) {
        params.validate();
        configure_logging(params.verbose);
        check_model_pair(params.model_path, params.mmproj_path);
        init_backend_once();
        load_text_model();
        load_vision();
        sampler.reset(make_greedy_sampler());
    }

    [[noreturn]] void fail_model(const std::filesystem::path & path, const char * what, const char * reason) const {
        throw Error(ErrorKind::InvalidModel, fmt::format("{} '{}': {}{}", what, path.string(), reason,
                                                         params.verbose ? "" : " (run with --verbose for details)"));
    }

    void load_text_model() {
        llama_model_params mparams = llama_model_default_params();
        model.reset(llama_model_load_from_file(params.model_path.c_str(), mparams));
        if (!model) {
            fail_model(params.model_path, "model", "llama.cpp could not load it");
        }
        const char * tmpl = llama_model_chat_template(model.get(), nullptr);
        if (!tmpl) {
            fail_model(params.model_path, "model", "has no chat template (tokenizer.chat_template)");
        }
        chat_template = tmpl;
        vocab = llama_model_get_vocab(model.get());

        llama_context_params cparams = llama_context_default_params();
        cparams.n_ctx = static_cast<std::uint32_t>(params.context_size);
        cparams.n_batch = static_cast<std::uint32_t>(params.batch_size);
        cparams.n_threads = params.threads;
        cparams.n_threads_batch = params.threads;
        cparams.flash_attn_type = to_llama(params.text_flash_attention);
        context.reset(llama_init_from_model(model.get(), cparams));
        if (!context) {
            fail_model(params.model_path, "model", "llama.cpp could not create a context for it");
        }
    }

    void load_vision() {
        mtmd_context_params vparams = mtmd_context_params_default();
        vparams.n_threads = params.threads;
        vparams.print_timings = false;
        vparams.flash_attn_type = to_llama(params.vision_flash_attention);
        vision.reset(mtmd_init_from_file(params.mmproj_path.c_str(), model.get(), vparams));
        if (!vision) {
            fail_model(params.mmproj_path, "mmproj", "libmtmd could not load it");
        }
        if (!mtmd_support_vision(vision.get())) {
            fail_model(params.mmproj_path, "mmproj", "has no vision encoder");
        }
    }

    static llama_sampler * make_greedy_sampler() {
        llama_sampler * chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
        llama_sampler_chain_add(chain, llama_sampler_init_greedy());
        return chain;
    }

    std::string format_prompt(const std::string & user_message) const {
        const llama_chat_message message{"user", user_message.c_str()};
        std::vector<char> buffer(user_message.size() * 2 + 256);
        int n = llama_chat_apply_template(chat_template.c_str(), &message, 1, true, buffer.data(),
                                          static_cast<std::int32_t>(buffer.size()));
        if (n > static_cast<int>(buffer.size())) {
            buffer.resize(static_cast<std::size_t>(n));
            n = llama_chat_apply_template(chat_template.c_str(), &message, 1, true, buffer.data(),
                                          static_cast<std::int32_t>(buffer.size()));
        }
        if (n < 0) {
            fail_model(params.model_path, "model", "its chat template is not one llama.cpp can apply");
        }
        return std::string(buffer.data(), static_cast<std::size_t>(n));
    }

    ChunksPtr tokenize(const ImageView & image, const std::string & prompt) {
        BitmapPtr bitmap(
            mtmd_bitmap_init(static_cast<std::uint32_t>(image.width), static_cast<std::uint32_t>(image.height),
                             image.rgb));
        ChunksPtr chunks(mtmd_input_chunks_init());
        const mtmd_input_text text{prompt.c_str(), prompt.size(), /*add_special=*/true, /*parse_special=*/true};
        const mtmd_bitmap * bitmaps[] = {bitmap.get()};
        const int rc = mtmd_tokenize(vision.get(), chunks.get(), &text, bitmaps, 1);
        if (rc != 0) {
            throw Error(ErrorKind::Runtime, fmt::format("could not tokenize the prompt with the image (mtmd_tokenize: {})", rc));
        }
        return chunks;
    }

    // Feeds every chunk through the model, timing the vision encoder separately.
    llama_pos prefill(const mtmd_input_chunks * chunks, Generation & out) {
        llama_pos n_past = 0;
        const std::size_t n_chunks = mtmd_input_chunks_size(chunks);
        for (std::size_t i = 0; i < n_chunks; ++i) {
            const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, i);
            const bool last = i + 1 == n_chunks;
            if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
                n_past = prefill_image(chunk, n_past, out);
            } else {
                const auto start = Clock::now();
                if (mtmd_helper_eval_chunk_single(vision.get(), context.get(), chunk, n_past, 0, params.batch_size,
                                                  last, &n_past) != 0) {
                    throw Error(ErrorKind::Runtime, "llama_decode failed on the prompt text");
                }
                out.timings.prefill_ms += ms_since(start);
            }
        }
        return n_past;
    }

    llama_pos prefill_image(const mtmd_input_chunk * chunk, llama_pos n_past, Generation & out) {
        const auto encode_start = Clock::now();
        if (mtmd_encode_chunk(vision.get(), chunk) != 0) {
            throw Error(ErrorKind::Runtime, "the vision encoder failed on the image");
        }
        out.timings.image_encode_ms += ms_since(encode_start);
        out.image_tokens += static_cast<int>(mtmd_input_chunk_get_n_tokens(chunk));

        const auto decode_start = Clock::now();
        llama_pos new_n_past = n_past;
        if (mtmd_helper_decode_image_chunk(vision.get(), context.get(), chunk, mtmd_get_output_embd(vision.get()),
                                           n_past, 0, params.batch_size, &new_n_past, nullptr, nullptr) != 0) {
            throw Error(ErrorKind::Runtime, "llama_decode failed on the image embeddings");
        }
        out.timings.prefill_ms += ms_since(decode_start);
        return new_n_past;
    }

    std::string piece(llama_token token) const {
        char small[64];
        int n = llama_token_to_piece(vocab, token, small, sizeof small, 0, /*special=*/true);
        if (n >= 0) {
            return std::string(small, static_cast<std::size_t>(n));
        }
        std::string large(static_cast<std::size_t>(-n), '\0');
        n = llama_token_to_piece(vocab, token, large.data(), static_cast<std::int32_t>(large.size()), 0, true);
        large.resize(static_cast<std::size_t>(std::max(n, 0)));
        return large;
    }

    void decode(llama_pos n_past, Generation & out) {
        const auto start = Clock::now();
        SingleTokenBatch batch;
        llama_sampler_reset(sampler.get());
        while (static_cast<int>(out.tokens.size()) < params.max_tokens) {
            const llama_token token = llama_sampler_sample(sampler.get(), context.get(), -1);
            if (llama_vocab_is_eog(vocab, token)) {
                out.stop_reason = StopReason::EndOfGeneration;
                break;
            }
            out.tokens.push_back(token);
            out.text += piece(token);
            if (static_cast<int>(out.tokens.size()) == params.max_tokens) {
                break;  // no need to evaluate a token nobody will sample after
            }
            if (llama_decode(context.get(), batch.set(token, n_past++)) != 0) {
                throw Error(ErrorKind::Runtime, "llama_decode failed on a generated token");
            }
        }
        out.timings.decode_ms = ms_since(start);
    }

    Generation generate(const ImageView & image, const std::string & question) {
        if (image.width <= 0 || image.height <= 0 || image.rgb == nullptr) {
            throw Error(ErrorKind::InvalidInput, "empty image");
        }
        const auto start = Clock::now();
        Generation out;
        llama_memory_clear(llama_get_memory(context.get()), true);
        const auto chunks = tokenize(image, format_prompt(user_message(question)));
        out.prompt_tokens = static_cast<int>(mtmd_helper_get_n_tokens(chunks.get()));
        if (out.prompt_tokens + params.max_tokens > params.context_size) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("prompt ({} tokens, image included) plus max tokens ({}) exceed the context size "
                                    "({}); raise --ctx",
                                    out.prompt_tokens, params.max_tokens, params.context_size));
        }
        decode(prefill(chunks.get(), out), out);
        out.timings.total_ms = ms_since(start);
        return out;
    }

    static std::string user_message(const std::string & question) {
        return std::string(mtmd_default_marker()) + "\n" + question;
    }
};

Vlm::Vlm(VlmParams params) : impl_(std::make_unique<Impl>(std::move(params))) {}
Vlm::~Vlm() = default;

std::string Vlm::user_message(const std::string & question) {
    return Impl::user_message(question);
}

std::string Vlm::format_prompt(const std::string & user_message) const {
    return impl_->format_prompt(user_message);
}

Generation Vlm::generate(const ImageView & image, const std::string & question) {
    return impl_->generate(image, question);
}

const VlmParams & Vlm::params() const noexcept {
    return impl_->params;
}

}  // namespace dermlens::model
