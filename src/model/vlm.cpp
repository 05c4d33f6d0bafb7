#include "model/vlm.h"

#include "common/random.h"
#include "dermlens/error.h"
#include "model/attention_capture.h"
#include "model/gguf_check.h"
#include "model/kv_prefix.h"
#include "model/llama_handles.h"
#include "model/thread_share.h"

#include <ggml-backend.h>
#include <ggml.h>
#include <llama.h>
#include <mtmd-helper.h>
#include <mtmd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <numeric>
#include <random>

namespace dermlens {

const char * flash_attention_name(FlashAttention mode) noexcept {
    switch (mode) {
        case FlashAttention::Auto: return "auto";
        case FlashAttention::On: return "on";
        case FlashAttention::Off: return "off";
    }
    return "auto";
}

FlashAttention parse_flash_attention(std::string_view text, const std::string & field) {
    if (text == "auto") return FlashAttention::Auto;
    if (text == "on") return FlashAttention::On;
    if (text == "off") return FlashAttention::Off;
    throw Error(ErrorKind::InvalidArgument, fmt::format("{} must be on, off or auto (got '{}')", field, text), field);
}

}  // namespace dermlens

namespace dermlens::model {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void discard_log(ggml_log_level, const char *, void *) {}

LogCallback & log_sink() {
    static LogCallback sink;
    return sink;
}

void forward_log(ggml_log_level, const char * text, void *) {
    if (const LogCallback & sink = log_sink()) {
        sink(text);
    }
}

// llama.cpp's log callbacks are process-wide; the last Vlm constructed decides.
void configure_logging(const LogCallback & log) {
    log_sink() = log;
    const ggml_log_callback callback = log ? forward_log : discard_log;
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

// A batch of text tokens with explicit positions: M-RoPE models (Qwen2-VL) count
// positions differently from KV cells, so positions cannot be inferred.
class TokenBatch {
public:
    explicit TokenBatch(int capacity) : batch_(llama_batch_init(capacity, 0, 1)), capacity_(capacity) {}
    ~TokenBatch() { llama_batch_free(batch_); }
    TokenBatch(const TokenBatch &) = delete;
    TokenBatch & operator=(const TokenBatch &) = delete;

    bool full() const noexcept { return batch_.n_tokens == capacity_; }
    bool empty() const noexcept { return batch_.n_tokens == 0; }
    void clear() noexcept { batch_.n_tokens = 0; }

    void add(llama_token token, llama_pos pos, bool logits) {
        const int i = batch_.n_tokens++;
        batch_.token[i] = token;
        batch_.pos[i] = pos;
        batch_.n_seq_id[i] = 1;
        batch_.seq_id[i][0] = 0;
        batch_.logits[i] = logits ? 1 : 0;
    }

    llama_batch & get() noexcept { return batch_; }

private:
    llama_batch batch_;
    int capacity_;
};

// The choice of each generated token: greedy (the first most likely token, as llama.cpp's
// greedy sampler) or sampled at a temperature from a seeded generator, constrained by an
// optional grammar. The grammar is asked about single tokens (the most likely ones in
// order, or the sampled ones, drawn again while it refuses them: exact rejection sampling)
// and applied to the whole vocabulary only when that finds nothing quickly: applying it to
// Gemma's 262k tokens at every step costs more than the model.
class Sampling {
public:
    Sampling(const llama_vocab * vocab, const DecodeParams & decode)
        : n_vocab_(llama_vocab_n_tokens(vocab)), temperature_(decode.temperature), rng_(decode.seed) {
        if (!decode.grammar.empty()) {
            grammar_.reset(llama_sampler_init_grammar(vocab, decode.grammar.c_str(), "root"));
            if (!grammar_) {
                throw Error(ErrorKind::InvalidArgument, "the grammar does not parse as GBNF with a 'root' rule");
            }
        }
    }

    llama_token sample(const float * logits) {
        const llama_token token = temperature_ > 0 ? sampled(logits) : most_likely(logits);
        if (grammar_) {
            llama_sampler_accept(grammar_.get(), token);
        }
        return token;
    }

private:
    static constexpr int kDraws = 256;  // sampled tokens the grammar may refuse before it is applied to all
    static constexpr std::size_t kFirstBlock = 64;  // most likely tokens asked about before it is applied to all

    bool allows(llama_token token) {
        if (!grammar_) {
            return true;
        }
        llama_token_data single{token, 1.0f, 0.0f};
        llama_token_data_array one{&single, 1, -1, false};
        llama_sampler_apply(grammar_.get(), &one);
        return !std::isinf(single.logit);
    }

    // The most likely token the grammar allows (ties: the lower id, as llama.cpp's greedy
    // sampler): one of the kFirstBlock most likely, asked about in order, else the grammar is
    // applied to the whole vocabulary at once (a literal of the grammar allows few tokens, and
    // asking about each of 262k tokens in turn costs far more than one pass).
    llama_token most_likely(const float * logits) {
        if (!grammar_) {
            return static_cast<llama_token>(std::max_element(logits, logits + n_vocab_) - logits);
        }
        order_.resize(static_cast<std::size_t>(n_vocab_));
        std::iota(order_.begin(), order_.end(), 0);
        const auto more_likely = [logits](llama_token a, llama_token b) {
            return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
        };
        const auto block = order_.begin() + static_cast<std::ptrdiff_t>(std::min(order_.size(), kFirstBlock));
        std::partial_sort(order_.begin(), block, order_.end(), more_likely);
        for (auto it = order_.begin(); it != block; ++it) {
            if (allows(*it)) {
                return *it;
            }
        }
        return most_likely_among_allowed(logits);
    }

    llama_token most_likely_among_allowed(const float * logits) {
        apply_grammar_to_all(logits);
        llama_token best = -1;
        for (llama_token t = 0; t < n_vocab_; ++t) {
            if (!std::isinf(candidates_[static_cast<std::size_t>(t)].logit) && (best < 0 || logits[t] > logits[best])) {
                best = t;
            }
        }
        if (best < 0) {
            throw Error(ErrorKind::Runtime, "the grammar allows no token here");
        }
        return best;
    }

    // candidates_: every token with its logit, -inf where the grammar refuses it.
    void apply_grammar_to_all(const float * logits) {
        candidates_.resize(static_cast<std::size_t>(n_vocab_));
        for (llama_token t = 0; t < n_vocab_; ++t) {
            candidates_[static_cast<std::size_t>(t)] = {t, logits[t], 0.0f};
        }
        llama_token_data_array all{candidates_.data(), candidates_.size(), -1, false};
        llama_sampler_apply(grammar_.get(), &all);
    }

    llama_token sampled(const float * logits) {
        const float top = *std::max_element(logits, logits + n_vocab_);
        cumulative_.resize(static_cast<std::size_t>(n_vocab_));
        double total = 0;
        for (llama_token t = 0; t < n_vocab_; ++t) {
            total += std::exp(static_cast<double>(logits[t] - top) / temperature_);
            cumulative_[static_cast<std::size_t>(t)] = total;
        }
        for (int draw = 0; draw < kDraws; ++draw) {
            const llama_token token = drawn(total);
            if (allows(token)) {
                return token;
            }
        }
        return sampled_among_allowed(logits, top);
    }

    // The grammar leaves little probability mass: it is applied to every token and the draw
    // made among the tokens it allows.
    llama_token sampled_among_allowed(const float * logits, float top) {
        apply_grammar_to_all(logits);
        double total = 0;
        for (std::size_t t = 0; t < candidates_.size(); ++t) {
            if (!std::isinf(candidates_[t].logit)) {
                total += std::exp(static_cast<double>(logits[t] - top) / temperature_);
            }
            cumulative_[t] = total;
        }
        if (total <= 0) {
            throw Error(ErrorKind::Runtime, "the grammar allows no token here");
        }
        return drawn(total);
    }

    // The token whose share of `cumulative_` holds a uniform draw on [0, total).
    llama_token drawn(double total) {
        const double u = uniform_unit(rng_) * total;
        const auto at = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
        return static_cast<llama_token>(std::min<std::ptrdiff_t>(at - cumulative_.begin(), n_vocab_ - 1));
    }

    SamplerPtr grammar_;
    int n_vocab_;
    float temperature_;
    std::mt19937_64 rng_;
    std::vector<double> cumulative_;
    std::vector<llama_token_data> candidates_;
    std::vector<llama_token> order_;
};

// Per-column means of a row-major matrix with `width` columns, accumulated in double.
std::vector<float> column_means(const std::vector<float> & rows, std::size_t width) {
    std::vector<double> sum(width, 0.0);
    const std::size_t n_rows = rows.size() / width;
    for (std::size_t row = 0; row < n_rows; ++row) {
        for (std::size_t col = 0; col < width; ++col) {
            sum[col] += rows[row * width + col];
        }
    }
    std::vector<float> mean(width);
    for (std::size_t col = 0; col < width; ++col) {
        mean[col] = static_cast<float>(sum[col] / static_cast<double>(n_rows));
    }
    return mean;
}


// Reads the encoder's last hidden state out of the vision graph while libmtmd
// computes it (mtmd_context_params.cb_eval). Armed only around an image encode;
// the graph is then computed in two pieces, split after the observed node.
class TapCapture {
public:
    explicit TapCapture(EncoderTap tap) : tap_(std::move(tap)) {}

    const EncoderTap & tap() const noexcept { return tap_; }

    void arm() {
        armed_ = true;
        seen_ = 0;
        rows_ = 0;
        error_.clear();
        mean_.clear();
    }
    void disarm() noexcept { armed_ = false; }

    // Matching nodes seen during the last armed encode (0: the graph has no such tensor).
    int seen() const noexcept { return seen_; }
    const std::string & error() const noexcept { return error_; }
    std::int64_t rows() const noexcept { return rows_; }
    const std::vector<float> & mean() const noexcept { return mean_; }

    // ggml_backend_sched_eval_callback: asked (ask) whether a node is wanted, then given it once computed.
    static bool observe(ggml_tensor * tensor, bool ask, void * user_data) {
        auto & self = *static_cast<TapCapture *>(user_data);
        const bool wanted = self.armed_ && std::strcmp(tensor->name, self.tap_.tensor_name.c_str()) == 0;
        if (!wanted) {
            return !ask;  // asked: not this one; computed: keep going
        }
        if (!ask) {
            self.record(tensor);
        }
        return true;
    }

private:
    // The last matching node wins (graph order: the encoder output comes after any earlier namesake).
    void record(const ggml_tensor * tensor) {
        ++seen_;
        if (tensor->type != GGML_TYPE_F32 || !ggml_is_contiguous(tensor) || tensor->ne[0] != tap_.width) {
            error_ = fmt::format("tensor '{}' is {} with {} columns, expected contiguous f32 with {}", tap_.tensor_name,
                                 ggml_type_name(tensor->type), tensor->ne[0], tap_.width);
            return;
        }
        error_.clear();
        values_.resize(static_cast<std::size_t>(ggml_nelements(tensor)));
        ggml_backend_tensor_get(tensor, values_.data(), 0, ggml_nbytes(tensor));
        rows_ = ggml_nelements(tensor) / tap_.width;
        mean_ = column_means(values_, static_cast<std::size_t>(tap_.width));
    }

    EncoderTap tap_;
    bool armed_ = false;
    int seen_ = 0;
    std::int64_t rows_ = 0;
    std::string error_;
    std::vector<float> values_;
    std::vector<float> mean_;
};

// Disarms the capture however the encode ends.
class ArmedCapture {
public:
    explicit ArmedCapture(TapCapture & capture) : capture_(capture) { capture_.arm(); }
    ~ArmedCapture() { capture_.disarm(); }
    ArmedCapture(const ArmedCapture &) = delete;
    ArmedCapture & operator=(const ArmedCapture &) = delete;

private:
    TapCapture & capture_;
};

}  // namespace


namespace {
double per_second(int count, double ms) noexcept {
    return ms > 0 ? count * 1000.0 / ms : 0.0;
}
}  // namespace

double Generation::prefill_tokens_per_s() const noexcept {
    return per_second(prompt_tokens - reused_tokens, timings.prefill_ms);
}

void DecodeParams::validate() const {
    require_positive(max_tokens, "max tokens");
    if (!(temperature >= 0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("temperature must be 0 or more (got {})", temperature));
    }
}


void VlmParams::validate() const {
    if (model_path.empty()) {
        throw Error(ErrorKind::InvalidArgument, "model_path: a GGUF text model is required", "model_path");
    }
    require_positive(threads, "threads");
    require_positive(context_size, "context size");
    require_positive(batch_size, "batch size");
    require_positive(max_tokens, "max tokens");
    if (max_tokens >= context_size) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("max tokens ({}) must be smaller than the context size ({})", max_tokens, context_size));
    }
    if (capture_attention && text_flash_attention == FlashAttention::On) {
        throw Error(ErrorKind::InvalidArgument,
                    "text_flash_attention: attention capture needs the text model's flash attention off (it "
                    "computes no attention probabilities): off or auto",
                    "text_flash_attention");
    }
}

// What every session of one loaded model shares (Vlm::another_session): the weights, the
// vision encoder, the chat template, the threads. llama.cpp allows several contexts on one
// llama_model (its tensors are only read); libmtmd keeps the last image's output in its context,
// so encodes take `encoder` in turn, while tokenizing and feeding stored embeddings only read it.
struct LoadedVlm {
    VlmParams params;
    ModelPtr model;
    MtmdPtr vision;  // after `model`, so freed before it
    std::string chat_template;
    const llama_vocab * vocab = nullptr;
    ProjectorInfo projector;
    std::mutex encoder;  // one encode at a time: the output and `capture` belong to the mtmd context
    TapCapture capture;
    std::atomic<std::size_t> encoder_runs{0};
    ThreadShare threads;

    explicit LoadedVlm(VlmParams p)
        : params(validated(std::move(p))),
          projector(checked_files(params)),
          capture(params.mmproj_path.empty() ? EncoderTap{} : model::encoder_tap(projector, params.mmproj_path)),
          threads(params.threads) {
        configure_logging(params.log);
        init_backend_once();
        load_text_model();
        if (!params.mmproj_path.empty()) {
            load_vision();
        }
    }

    static VlmParams validated(VlmParams p) {
        p.validate();
        return p;
    }

    // A text-only model has no projector to describe.
    static ProjectorInfo checked_files(const VlmParams & p) {
        if (p.mmproj_path.empty()) {
            check_text_model(p.model_path);
            return {};
        }
        return check_model_pair(p.model_path, p.mmproj_path);
    }

    void require_vision() const {
        if (!vision) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("mmproj_path: model '{}' was loaded without a vision projector, so it reads no "
                                    "images", params.model_path.string()),
                        "mmproj_path");
        }
    }

    [[noreturn]] void fail_model(const std::filesystem::path & path, const char * what, const char * reason) const {
        throw Error(ErrorKind::InvalidModel, fmt::format("{} '{}': {}{}", what, path.string(), reason,
                                                         params.log ? "" : " (the log has the details)"));
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
    }

    // A context of its own (KV cache, compute buffers) on the shared model; `attention` (with
    // capture_attention) observes its graph.
    ContextPtr new_context(AttentionCapture * attention) const {
        llama_context_params cparams = llama_context_default_params();
        cparams.n_ctx = static_cast<std::uint32_t>(params.context_size);
        cparams.n_batch = static_cast<std::uint32_t>(params.batch_size);
        cparams.n_threads = params.threads;
        cparams.n_threads_batch = params.threads;
        cparams.flash_attn_type = to_llama(params.text_flash_attention);
        // Sliding-window layers (Gemma 3) otherwise drop cells a rolled-back prefix still needs,
        // and reuse cells out of prompt order.
        cparams.swa_full = params.reuse_prefix || params.capture_attention;
        if (attention != nullptr) {
            cparams.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
            cparams.cb_eval = AttentionCapture::observe;
            cparams.cb_eval_user_data = attention;
        }
        ContextPtr context(llama_init_from_model(model.get(), cparams));
        if (!context) {
            fail_model(params.model_path, "model", "llama.cpp could not create a context for it");
        }
        return context;
    }

    void load_vision() {
        mtmd_context_params vparams = mtmd_context_params_default();
        vparams.n_threads = params.threads;
        vparams.print_timings = false;
        vparams.flash_attn_type = to_llama(params.vision_flash_attention);
        vparams.cb_eval = TapCapture::observe;
        vparams.cb_eval_user_data = &capture;
        vision.reset(mtmd_init_from_file(params.mmproj_path.c_str(), model.get(), vparams));
        if (!vision) {
            fail_model(params.mmproj_path, "mmproj", "libmtmd could not load it");
        }
        if (!mtmd_support_vision(vision.get())) {
            fail_model(params.mmproj_path, "mmproj", "has no vision encoder");
        }
    }

    std::string apply_template(const std::vector<ChatTurn> & turns) const {
        std::vector<llama_chat_message> messages;
        std::size_t length = 0;
        for (const auto & turn : turns) {
            messages.push_back({role_name(turn.role), turn.text.c_str()});
            length += turn.text.size();
        }
        std::vector<char> buffer(length * 2 + 256 * turns.size());
        int n = llama_chat_apply_template(chat_template.c_str(), messages.data(), messages.size(), true, buffer.data(),
                                          static_cast<std::int32_t>(buffer.size()));
        if (n > static_cast<int>(buffer.size())) {
            buffer.resize(static_cast<std::size_t>(n));
            n = llama_chat_apply_template(chat_template.c_str(), messages.data(), messages.size(), true, buffer.data(),
                                          static_cast<std::int32_t>(buffer.size()));
        }
        if (n < 0) {
            fail_model(params.model_path, "model", "its chat template is not one llama.cpp can apply");
        }
        return std::string(buffer.data(), static_cast<std::size_t>(n));
    }

    std::string format_prompt(const std::string & user_message) const {
        return apply_template({{ChatTurn::Role::User, user_message}});
    }

    static const char * role_name(ChatTurn::Role role) {
        switch (role) {
        case ChatTurn::Role::System: return "system";
        case ChatTurn::Role::User: return "user";
        case ChatTurn::Role::Assistant: return "assistant";
        }
        return "user";
    }

    // A prompt about an image holds the image marker once; a text prompt never.
    static void check_prompt(const ChatPrompt & prompt, std::size_t image_markers) {
        if (prompt.turns.empty() || prompt.turns.back().role != ChatTurn::Role::User) {
            throw Error(ErrorKind::InvalidArgument, "a prompt needs turns ending with a user turn");
        }
        const std::string marker = mtmd_default_marker();
        std::size_t markers = 0;
        for (const auto & turn : prompt.turns) {
            for (auto at = turn.text.find(marker); at != std::string::npos; at = turn.text.find(marker, at + 1)) {
                ++markers;
            }
        }
        if (markers != image_markers) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("a prompt {} holds the image marker {} (found {} times)",
                                    image_markers == 1 ? "about an image" : "without an image",
                                    image_markers == 1 ? "once" : "nowhere", markers));
        }
    }

    // `special`: add the model's start tokens and read its special tokens in `text` (a templated prompt).
    std::vector<llama_token> tokenize_text(const std::string & text, bool special = false) const {
        std::vector<llama_token> tokens(text.size() + 8);
        int n = llama_tokenize(vocab, text.c_str(), static_cast<std::int32_t>(text.size()), tokens.data(),
                               static_cast<std::int32_t>(tokens.size()), special, special);
        if (n < 0) {
            tokens.resize(static_cast<std::size_t>(-n));
            n = llama_tokenize(vocab, text.c_str(), static_cast<std::int32_t>(text.size()), tokens.data(),
                               static_cast<std::int32_t>(tokens.size()), special, special);
        }
        tokens.resize(static_cast<std::size_t>(std::max(n, 0)));
        return tokens;
    }

    // The first token of each continuation after the answer lead: the continuation tokenized
    // together with the lead, so that a SentencePiece tokenizer does not prefix it with a space;
    // where the two merge into one token (BPE: "(A"), the continuation tokenized alone.
    std::vector<llama_token> continuation_tokens(const std::string & lead,
                                                 const std::vector<std::string> & continuations) const {
        const std::vector<llama_token> lead_tokens = tokenize_text(lead);
        std::vector<llama_token> firsts;
        for (const auto & continuation : continuations) {
            std::vector<llama_token> tokens = tokenize_text(lead + continuation);
            if (tokens.size() > lead_tokens.size() && std::equal(lead_tokens.begin(), lead_tokens.end(), tokens.begin())) {
                tokens.erase(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(lead_tokens.size()));
            } else {
                tokens = tokenize_text(continuation);
            }
            if (tokens.empty()) {
                throw Error(ErrorKind::InvalidArgument, "a continuation to score is empty");
            }
            if (std::find(firsts.begin(), firsts.end(), tokens.front()) != firsts.end()) {
                throw Error(ErrorKind::InvalidArgument,
                            fmt::format("continuation '{}' starts with the same token as an earlier one", continuation));
            }
            firsts.push_back(tokens.front());
        }
        return firsts;
    }

    // Chunks of `prompt` with its media marker replaced by the image (placeholder bitmap: no pixels,
    // only the size, from which libmtmd lays out the image tokens without preprocessing anything).
    ChunksPtr tokenize(const mtmd_bitmap * bitmap, const std::string & prompt, bool add_special) const {
        ChunksPtr chunks(mtmd_input_chunks_init());
        const mtmd_input_text text{prompt.c_str(), prompt.size(), add_special, /*parse_special=*/true};
        const mtmd_bitmap * bitmaps[] = {bitmap};
        const int rc = mtmd_tokenize(vision.get(), chunks.get(), &text, bitmaps, 1);
        if (rc != 0) {
            throw Error(ErrorKind::Runtime, fmt::format("could not tokenize the prompt with the image (mtmd_tokenize: {})", rc));
        }
        return chunks;
    }

    // The one image chunk of `chunks`; dermlens's encoders (Gemma 3, Qwen2-VL, LLaVA-1.5) never slice an image.
    const mtmd_input_chunk * image_chunk(const mtmd_input_chunks * chunks) const {
        const mtmd_input_chunk * found = nullptr;
        int count = 0;
        for (std::size_t i = 0; i < mtmd_input_chunks_size(chunks); ++i) {
            const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, i);
            if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
                found = chunk;
                ++count;
            }
        }
        if (count != 1) {
            throw Error(ErrorKind::InvalidModel,
                        fmt::format("mmproj '{}': an image became {} image chunks; dermlens supports encoders that "
                                    "take the whole image at once", params.mmproj_path.string(), count));
        }
        return found;
    }

    // The prompt about an image of the given size, checked against the context size with room
    // for `new_tokens` more.
    ChunksPtr prompt_chunks(int image_width, int image_height, const ChatPrompt & prompt, int new_tokens,
                            int & prompt_tokens, int & image_tokens) const {
        check_prompt(prompt, 1);
        const BitmapPtr placeholder(mtmd_bitmap_init(static_cast<std::uint32_t>(image_width),
                                                     static_cast<std::uint32_t>(image_height), nullptr));
        auto chunks = tokenize(placeholder.get(), apply_template(prompt.turns) + prompt.answer_lead, /*add_special=*/true);
        prompt_tokens = static_cast<int>(mtmd_helper_get_n_tokens(chunks.get()));
        image_tokens = static_cast<int>(mtmd_input_chunk_get_n_tokens(image_chunk(chunks.get())));
        check_fits(prompt_tokens, new_tokens);
        return chunks;
    }

    void check_fits(int prompt_tokens, int new_tokens) const {
        if (prompt_tokens + new_tokens > params.context_size) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("context_size {}: the prompt ({} tokens, image included) plus {} new tokens "
                                    "exceed the context size; raise it",
                                    params.context_size, prompt_tokens, new_tokens),
                        "context_size");
        }
    }

    // The tokens of a prompt without an image, checked against the context size.
    std::vector<llama_token> text_prompt_tokens(const ChatPrompt & prompt, int new_tokens) const {
        check_prompt(prompt, 0);
        std::vector<llama_token> tokens = tokenize_text(apply_template(prompt.turns) + prompt.answer_lead, true);
        if (tokens.empty()) {
            throw Error(ErrorKind::InvalidArgument, "the prompt is empty");
        }
        check_fits(static_cast<int>(tokens.size()), new_tokens);
        return tokens;
    }

    static ChatPrompt question_prompt(const std::string & question) {
        return {{{ChatTurn::Role::User, user_message(question)}}, ""};
    }

    static void check_image(const ImageView & image) {
        if (image.width <= 0 || image.height <= 0 || image.rgb == nullptr) {
            throw Error(ErrorKind::InvalidInput, "empty image");
        }
    }

    ImageEncoding encode(const ImageView & image) {
        require_vision();
        check_image(image);
        ImageEncoding out;
        out.image_width = image.width;
        out.image_height = image.height;
        const std::lock_guard one_at_a_time(encoder);
        const auto preprocess_start = Clock::now();
        const BitmapPtr bitmap(mtmd_bitmap_init(static_cast<std::uint32_t>(image.width),
                                                static_cast<std::uint32_t>(image.height), image.rgb));
        const auto chunks = tokenize(bitmap.get(), mtmd_default_marker(), /*add_special=*/false);
        const mtmd_input_chunk * chunk = image_chunk(chunks.get());
        out.preprocess_ms = ms_since(preprocess_start);

        const auto encode_start = Clock::now();
        {
            const ThreadShare::Turn counted = threads.begin();  // with all threads (thread_share.h)
            const ArmedCapture armed(capture);
            if (mtmd_encode_chunk(vision.get(), chunk) != 0) {
                throw Error(ErrorKind::Runtime, "the vision encoder failed on the image");
            }
        }
        out.encode_ms = ms_since(encode_start);
        ++encoder_runs;

        const EncoderTap & tap = capture.tap();
        if (capture.seen() == 0) {
            throw Error(ErrorKind::Runtime, fmt::format("mmproj '{}': the vision graph has no tensor '{}' (the "
                                                        "encoder's {} output)",
                                                        params.mmproj_path.string(), tap.tensor_name, tap.layer));
        }
        if (!capture.error().empty()) {
            throw Error(ErrorKind::Runtime, fmt::format("mmproj '{}': {}", params.mmproj_path.string(), capture.error()));
        }
        out.encoder_mean = capture.mean();
        out.encoder_tokens = static_cast<int>(capture.rows());

        out.n_tokens = static_cast<int>(mtmd_input_chunk_get_n_tokens(chunk));
        out.n_embd = llama_model_n_embd_inp(model.get());
        const float * embd = mtmd_get_output_embd(vision.get());
        out.embeddings.assign(embd, embd + static_cast<std::size_t>(out.n_tokens) * static_cast<std::size_t>(out.n_embd));
        out.projected_mean = column_means(out.embeddings, static_cast<std::size_t>(out.n_embd));
        return out;
    }

    void check_encoding(const ImageEncoding & encoding) const {
        const int n_embd = llama_model_n_embd_inp(model.get());
        if (encoding.image_width <= 0 || encoding.image_height <= 0 || encoding.n_tokens <= 0) {
            throw Error(ErrorKind::InvalidInput, "image encoding without image size or tokens");
        }
        if (encoding.n_embd != n_embd) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("image encoding is {} wide but model '{}' reads {}-wide embeddings", encoding.n_embd,
                                    params.model_path.string(), n_embd));
        }
        if (encoding.embeddings.size() !=
            static_cast<std::size_t>(encoding.n_tokens) * static_cast<std::size_t>(encoding.n_embd)) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("image encoding holds {} values, not {} tokens x {}", encoding.embeddings.size(),
                                    encoding.n_tokens, encoding.n_embd));
        }
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

    static std::string user_message(const std::string & question) {
        return std::string(mtmd_default_marker()) + "\n" + question;
    }

    ImageLayout image_layout(const ImageEncoding & encoding) const {
        require_vision();
        check_encoding(encoding);
        const BitmapPtr placeholder(mtmd_bitmap_init(static_cast<std::uint32_t>(encoding.image_width),
                                                     static_cast<std::uint32_t>(encoding.image_height), nullptr));
        const auto chunks = tokenize(placeholder.get(), mtmd_default_marker(), /*add_special=*/false);
        const mtmd_image_tokens * tokens = mtmd_input_chunk_get_tokens_image(image_chunk(chunks.get()));
        const auto n_tokens = static_cast<int>(mtmd_image_tokens_get_n_tokens(tokens));
        // M-RoPE gives the last token its grid column and row; sequential positions give no grid.
        const mtmd_decoder_pos last = mtmd_image_tokens_get_decoder_pos(tokens, 0, static_cast<std::size_t>(n_tokens - 1));
        const bool grid = n_tokens > 1 && last.t != static_cast<std::uint32_t>(n_tokens - 1);
        return model::image_layout(projector, encoding.image_width, encoding.image_height, n_tokens,
                                   grid ? static_cast<int>(last.x) + 1 : n_tokens, grid ? static_cast<int>(last.y) + 1 : 1);
    }
};

// One session: a context on the loaded model, with what its KV cache holds and the call's hooks.
struct Vlm::Impl {
    std::shared_ptr<LoadedVlm> loaded;
    const VlmParams & params;
    const llama_vocab * vocab;
    std::unique_ptr<AttentionCapture> attention;  // with VlmParams::capture_attention; outlives `context`
    ContextPtr context;
    AttentionObserver * attention_observer = nullptr;
    Vlm::KeepGoing keep_going;
    KvPrefix cached;  // what the KV cache holds
    const float * next_logits = nullptr;  // the scores of the token that follows what the cache holds

    explicit Impl(std::shared_ptr<LoadedVlm> shared)
        : loaded(std::move(shared)), params(loaded->params), vocab(loaded->vocab) {
        if (params.capture_attention) {
            attention = std::make_unique<AttentionCapture>(llama_model_n_layer(loaded->model.get()));
        }
        context = loaded->new_context(attention.get());
    }

    // A text prompt is one chunk, evaluated whole (kv_prefix.h): nothing of the cache is kept.
    void evaluate_text(const std::vector<llama_token> & tokens, double & prefill_ms) {
        const auto start = Clock::now();
        try {
            forget_cache();
            prefill_text(tokens.data(), tokens.size(), /*logits_at_end=*/true);
        } catch (...) {
            forget_cache();
            throw;
        }
        prefill_ms = ms_since(start);
    }

    // Evaluates the prompt, keeping the prefix it shares with what the KV cache holds: text
    // through its tokens, the image through its stored embeddings. Returns the position after it.
    llama_pos evaluate(const mtmd_input_chunks * chunks, const ImageEncoding & encoding, int & reused_tokens,
                       double & prefill_ms) {
        const auto start = Clock::now();
        const std::uint64_t image_key = content_key(encoding.embeddings);
        const std::vector<PromptItem> items = items_of(chunks, image_key, encoding.n_tokens);
        if (reuse_whole_prompt(items)) {
            reused_tokens = cached.tokens_in(cached.size());
            prefill_ms = ms_since(start);
            return cached.position_after(cached.size());
        }
        next_logits = nullptr;  // the prompt's last text chunk sets them
        try {
            reuse_prefix(items);
            reused_tokens = cached.tokens_in(cached.size());
            std::size_t item = 0;
            const std::size_t n_chunks = mtmd_input_chunks_size(chunks);
            for (std::size_t i = 0; i < n_chunks; ++i) {
                const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, i);
                if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
                    if (item++ >= cached.size()) {
                        prefill_image(chunk, encoding, image_key);
                    }
                    continue;
                }
                std::size_t n_tokens = 0;
                const llama_token * tokens = mtmd_input_chunk_get_tokens_text(chunk, &n_tokens);
                if (item >= cached.size()) {  // reuse keeps whole chunks
                    prefill_text(tokens, n_tokens, /*logits_at_end=*/i + 1 == n_chunks);
                }
                item += n_tokens;
            }
        } catch (...) {
            forget_cache();
            throw;
        }
        if (next_logits != nullptr) {
            cached.keep_prompt_logits(next_logits, static_cast<std::size_t>(llama_vocab_n_tokens(vocab)));
        }
        prefill_ms = ms_since(start);
        return cached.position_after(cached.size());
    }

    // The same prompt as the last one evaluated: its kept logits, after cutting the tokens
    // generated from it out of the cache. Not when attention is observed: the observer reads
    // the attention of the prompt's last token, which only evaluating it gives.
    bool reuse_whole_prompt(const std::vector<PromptItem> & items) {
        const std::vector<float> * logits = cached.prompt_logits(items);
        if (!params.reuse_prefix || attention_observer != nullptr || logits == nullptr) {
            return false;
        }
        if (!llama_memory_seq_rm(llama_get_memory(context.get()), 0, cached.position_after(items.size()), -1)) {
            forget_cache();
            return false;
        }
        cached.truncate(items.size());
        next_logits = logits->data();
        return true;
    }

    static std::vector<PromptItem> items_of(const mtmd_input_chunks * chunks, std::uint64_t image_key, int image_tokens) {
        std::vector<PromptItem> items;
        for (std::size_t i = 0; i < mtmd_input_chunks_size(chunks); ++i) {
            const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, i);
            if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
                items.push_back(PromptItem::image(image_key, image_tokens, mtmd_input_chunk_get_n_pos(chunk)));
                continue;
            }
            std::size_t n_tokens = 0;
            const llama_token * tokens = mtmd_input_chunk_get_tokens_text(chunk, &n_tokens);
            for (std::size_t t = 0; t < n_tokens; ++t) {
                items.push_back(PromptItem::text(tokens[t], t == 0));
            }
        }
        return items;
    }

    // Cuts the KV cache after the longest prefix it shares with `items` (everything when reuse is off).
    void reuse_prefix(const std::vector<PromptItem> & items) {
        const std::size_t keep = params.reuse_prefix ? cached.reusable(items) : 0;
        if (keep == 0 || !llama_memory_seq_rm(llama_get_memory(context.get()), 0, cached.position_after(keep), -1)) {
            forget_cache();
            return;
        }
        cached.truncate(keep);
    }

    void forget_cache() {
        llama_memory_clear(llama_get_memory(context.get()), true);
        cached.clear();
    }

    void prefill_text(const llama_token * tokens, std::size_t n_tokens, bool logits_at_end) {
        TokenBatch batch(params.batch_size);
        for (std::size_t t = 0; t < n_tokens; ++t) {
            const bool last = t + 1 == n_tokens;
            batch.add(tokens[t], cached.position_after(cached.size()), logits_at_end && last);
            cached.append(PromptItem::text(tokens[t], t == 0));
            if (batch.full() || last) {
                decode_batch(batch, logits_at_end && last, "the prompt text");
                batch.clear();
            }
        }
    }

    // A step through the text model with this session's share of the threads.
    template <typename Decode>
    int decode_with_share(Decode decode) {
        const ThreadShare::Turn turn = loaded->threads.begin();
        llama_set_n_threads(context.get(), turn.threads(), turn.threads());
        return decode();
    }

    // llama_decode, observing the attention of the batch's last token when it chooses the next one.
    void decode_batch(TokenBatch & batch, bool chooses_next, const char * what) {
        const bool observed = chooses_next && attention_observer != nullptr;
        if (observed) {
            const auto [image_begin, image_tokens] = cached.image_cells();
            attention->arm(cached.tokens_in(cached.size()), image_begin, image_tokens);
        }
        const int rc = decode_with_share([&] { return llama_decode(context.get(), batch.get()); });
        if (rc != 0) {
            attention_disarm();
            throw Error(ErrorKind::Runtime, fmt::format("llama_decode failed on {}", what));
        }
        if (chooses_next) {
            next_logits = llama_get_logits_ith(context.get(), -1);
        }
        if (observed) {
            attention_observer->observe(attention->take());
        }
    }

    void attention_disarm() noexcept {
        if (attention) {
            attention->disarm();
        }
    }

    void prefill_image(const mtmd_input_chunk * chunk, const ImageEncoding & encoding, std::uint64_t image_key) {
        const auto needed = static_cast<int>(mtmd_input_chunk_get_n_tokens(chunk));
        if (needed != encoding.n_tokens) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("image encoding has {} tokens but mmproj '{}' lays out {} for a {}x{} image "
                                    "(encoded with another projector?)",
                                    encoding.n_tokens, params.mmproj_path.string(), needed, encoding.image_width,
                                    encoding.image_height));
        }
        const llama_pos n_past = cached.position_after(cached.size());
        llama_pos new_n_past = n_past;
        // llama_decode only reads batch.embd; the helper's signature is not const-correct.
        float * embd = const_cast<float *>(encoding.embeddings.data());
        if (decode_with_share([&] {
                return mtmd_helper_decode_image_chunk(loaded->vision.get(), context.get(), chunk, embd, n_past, 0,
                                                      params.batch_size, &new_n_past, nullptr, nullptr);
            }) != 0) {
            throw Error(ErrorKind::Runtime, "llama_decode failed on the image embeddings");
        }
        cached.append(PromptItem::image(image_key, needed, new_n_past - n_past));
    }

    // Generated tokens enter the KV cache too, so a follow-up turn reuses them.
    void decode(const DecodeParams & params_of_call, Generation & out) {
        const auto start = Clock::now();
        Sampling sampling(vocab, params_of_call);
        TokenBatch batch(1);
        while (static_cast<int>(out.tokens.size()) < params_of_call.max_tokens) {
            const int generated = static_cast<int>(out.tokens.size());
            if (keep_going && !keep_going(generated, params_of_call.max_tokens)) {
                throw Error(ErrorKind::Cancelled, fmt::format("cancelled after {} generated tokens", generated));
            }
            const llama_token token = sampling.sample(next_logits);
            if (llama_vocab_is_eog(vocab, token)) {
                out.stop_reason = StopReason::EndOfGeneration;
                break;
            }
            out.tokens.push_back(token);
            out.text_offsets.push_back(out.text.size());
            out.text += loaded->piece(token);
            if (static_cast<int>(out.tokens.size()) == params_of_call.max_tokens) {
                break;  // no need to evaluate a token nobody will sample after
            }
            batch.clear();
            batch.add(token, cached.position_after(cached.size()), true);
            cached.append(PromptItem::text(token, false));
            try {
                decode_batch(batch, true, "a generated token");
            } catch (...) {
                forget_cache();
                throw;
            }
        }
        out.timings.decode_ms = ms_since(start);
    }

    Generation generate_text(const ChatPrompt & prompt, const DecodeParams & decode_params) {
        decode_params.validate();
        const auto start = Clock::now();
        Generation out;
        const std::vector<llama_token> tokens = loaded->text_prompt_tokens(prompt, decode_params.max_tokens);
        out.prompt_tokens = static_cast<int>(tokens.size());
        evaluate_text(tokens, out.timings.prefill_ms);
        decode(decode_params, out);
        out.timings.total_ms = ms_since(start);
        return out;
    }

    Generation generate(const ImageEncoding & encoding, const ChatPrompt & prompt, const DecodeParams & decode_params) {
        loaded->require_vision();
        decode_params.validate();
        loaded->check_encoding(encoding);
        const auto start = Clock::now();
        Generation out;
        const auto chunks = loaded->prompt_chunks(encoding.image_width, encoding.image_height, prompt, decode_params.max_tokens,
                                          out.prompt_tokens, out.image_tokens);
        evaluate(chunks.get(), encoding, out.reused_tokens, out.timings.prefill_ms);
        decode(decode_params, out);
        out.timings.total_ms = ms_since(start);
        return out;
    }

    // The context is checked before the encoder runs, so a prompt that cannot fit costs no encode.
    Generation generate(const ImageView & image, const std::string & question) {
        loaded->require_vision();
        LoadedVlm::check_image(image);
        const auto start = Clock::now();
        Generation out;
        const ChatPrompt prompt = LoadedVlm::question_prompt(question);
        const auto chunks = loaded->prompt_chunks(image.width, image.height, prompt, params.max_tokens, out.prompt_tokens,
                                          out.image_tokens);
        const ImageEncoding encoding = loaded->encode(image);
        out.timings.image_encode_ms = encoding.encode_ms;
        evaluate(chunks.get(), encoding, out.reused_tokens, out.timings.prefill_ms);
        decode(DecodeParams{params.max_tokens, "", 0, 0}, out);
        out.timings.total_ms = ms_since(start);
        return out;
    }

    NextTokenScores score_next_token(const ImageEncoding & encoding, const ChatPrompt & prompt,
                                     const std::vector<std::string> & continuations) {
        loaded->require_vision();
        loaded->check_encoding(encoding);
        const auto start = Clock::now();
        const std::vector<llama_token> tokens = loaded->continuation_tokens(prompt.answer_lead, continuations);
        NextTokenScores out;
        int image_tokens = 0;
        const auto chunks = loaded->prompt_chunks(encoding.image_width, encoding.image_height, prompt, 0, out.prompt_tokens,
                                          image_tokens);
        evaluate(chunks.get(), encoding, out.reused_tokens, out.timings.prefill_ms);
        const float * logits = next_logits;
        const int n_vocab = llama_vocab_n_tokens(vocab);
        const double top = *std::max_element(logits, logits + n_vocab);
        double sum = 0;
        for (int t = 0; t < n_vocab; ++t) {
            sum += std::exp(static_cast<double>(logits[t]) - top);
        }
        const double log_normaliser = top + std::log(sum);
        for (const llama_token token : tokens) {
            out.tokens.push_back(token);
            out.log_probabilities.push_back(static_cast<double>(logits[token]) - log_normaliser);
        }
        out.timings.total_ms = ms_since(start);
        return out;
    }

    void set_attention_observer(AttentionObserver * observer) {
        if (observer != nullptr && !attention) {
            throw Error(ErrorKind::InvalidArgument, "this model was loaded without attention capture "
                                                    "(VlmParams::capture_attention)");
        }
        attention_observer = observer;
    }
};

Vlm::Vlm(VlmParams params) : impl_(std::make_unique<Impl>(std::make_shared<LoadedVlm>(std::move(params)))) {}
Vlm::Vlm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vlm::~Vlm() = default;

std::unique_ptr<Vlm> Vlm::another_session() const {
    return std::unique_ptr<Vlm>(new Vlm(std::make_unique<Impl>(impl_->loaded)));
}

std::string Vlm::user_message(const std::string & question) {
    return LoadedVlm::user_message(question);
}

std::string Vlm::format_prompt(const std::string & user_message) const {
    return impl_->loaded->format_prompt(user_message);
}

ImageEncoding Vlm::encode(const ImageView & image) {
    return impl_->loaded->encode(image);
}

Generation Vlm::generate(const ImageEncoding & encoding, const std::string & question) {
    return impl_->generate(encoding, LoadedVlm::question_prompt(question), DecodeParams{impl_->params.max_tokens, "", 0, 0});
}

Generation Vlm::generate(const ImageView & image, const std::string & question) {
    return impl_->generate(image, question);
}

Generation Vlm::generate(const ImageEncoding & encoding, const ChatPrompt & prompt, const DecodeParams & decode) {
    return impl_->generate(encoding, prompt, decode);
}

Generation Vlm::generate_text(const ChatPrompt & prompt, const DecodeParams & decode) {
    return impl_->generate_text(prompt, decode);
}

bool Vlm::has_vision() const noexcept {
    return impl_->loaded->vision != nullptr;
}

NextTokenScores Vlm::score_next_token(const ImageEncoding & encoding, const ChatPrompt & prompt,
                                      const std::vector<std::string> & continuations) {
    return impl_->score_next_token(encoding, prompt, continuations);
}

ImageLayout Vlm::image_layout(const ImageEncoding & encoding) const {
    return impl_->loaded->image_layout(encoding);
}

void Vlm::set_keep_going(KeepGoing keep_going) {
    impl_->keep_going = std::move(keep_going);
}

void Vlm::set_attention_observer(AttentionObserver * observer) {
    impl_->set_attention_observer(observer);
}

const char * Vlm::image_marker() noexcept {
    return mtmd_default_marker();
}

std::size_t Vlm::encoder_runs() const noexcept {
    return impl_->loaded->encoder_runs;
}

const EncoderTap & Vlm::encoder_tap() const noexcept {
    return impl_->loaded->capture.tap();
}

const VlmParams & Vlm::params() const noexcept {
    return impl_->params;
}

}  // namespace dermlens::model
