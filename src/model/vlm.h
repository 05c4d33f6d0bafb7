// A vision-language model loaded once and queried with one image at a time.
//
// Wraps libllama (text model, KV cache, decoding) and libmtmd (vision encoder +
// projector). Answers are reproducible and independent of earlier calls: a call
// keeps only the prefix of the KV cache its prompt shares with the previous call's
// (VlmParams::reuse_prefix) and evaluates the rest, which gives the same result as
// an empty cache at a fraction of the cost; the same prompt again evaluates nothing. The chat template comes from the GGUF;
// a prompt is one or more turns, the first user turn holding the image.
//
// The vision encoder runs once per image: encode() returns everything later
// stages need from it (the projected image embeddings the text model reads, and
// the pooled features the probes read), and generate(ImageEncoding, ...) feeds
// those embeddings without touching the encoder, so any number of questions (or
// a cached encoding from an earlier run) cost no further encoder time.
//
// Sessions: another_session() gives a second Vlm on the same loaded weights and vision encoder
// with a context (KV cache, prefix state, observers) of its own, so that two threads can each
// run one at the same time; the encoder is shared and encodes one image at a time, and the
// sessions' steps share the threads with it (model/thread_share.h). A single Vlm must not be used
// by two threads at once.
#pragma once

#include "dermlens/engine.h"
#include "model/attention_tap.h"
#include "model/encoder_tap.h"
#include "model/image_layout.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dermlens::model {

using dermlens::FlashAttention;
using dermlens::flash_attention_name;
using dermlens::parse_flash_attention;

struct VlmParams {
    std::filesystem::path model_path;   // GGUF text model
    std::filesystem::path mmproj_path;  // GGUF vision projector belonging to it; empty: a text-only model
    int threads = 4;  // shared by the encoder and every session's steps (model/thread_share.h)
    int context_size = 4096;    // tokens, image tokens included
    int batch_size = 512;       // logical batch for prompt processing
    int max_tokens = 32;        // generated tokens at most (the answer is a letter or a label)
    FlashAttention text_flash_attention = FlashAttention::Auto;
    // Off by default here (on an AVX-512 CPU the SigLIP encoder is ~2.7x slower with it: Gemma-3-4B,
    // 896 px, 228 s vs 84 s; on AVX2 it is faster); Auto is llama.cpp's (on where the backend has
    // it). The Engine resolves its own `auto` by measurement first (engine/attention_paths.h).
    FlashAttention vision_flash_attention = FlashAttention::Off;
    LogCallback log;  // llama.cpp's and libmtmd's log lines; none: discarded
    // Keep the KV cache between calls and evaluate only what follows the prefix a new prompt
    // shares with the previous one (off: every call starts from an empty cache).
    bool reuse_prefix = true;
    // Make the text model's attention probabilities readable (set_attention_observer): its
    // flash attention is then off (the probabilities exist only without it) and its
    // sliding-window cache full-size (cells then hold the prompt in order).
    bool capture_attention = false;

    void validate() const;  // throws Error(InvalidArgument) naming the bad value
};

struct ImageView {
    int width = 0;
    int height = 0;
    const std::uint8_t * rgb = nullptr;  // width * height * 3 bytes, row-major RGB
};

enum class StopReason { EndOfGeneration, MaxTokens };

// One image through the vision encoder and projector.
struct ImageEncoding {
    int image_width = 0;   // the encoded image's size: the prompt's image tokens are laid out from it
    int image_height = 0;
    int n_tokens = 0;      // image tokens the text model reads
    int n_embd = 0;        // width of each: the text model's input embedding width
    std::vector<float> embeddings;      // n_tokens x n_embd, token-major (mtmd_get_output_embd)
    std::vector<float> encoder_mean;    // mean over tokens of the encoder's last hidden state, before the projector
    std::vector<float> projected_mean;  // mean over tokens of `embeddings` (n_embd values)
    int encoder_tokens = 0;             // tokens averaged into encoder_mean
    double preprocess_ms = 0;           // resize + normalisation (libmtmd's tokenizer)
    double encode_ms = 0;               // vision encoder + projector
};

struct GenerationTimings {
    double image_encode_ms = 0;  // vision encoder + projector; 0 when generating from an ImageEncoding
    double prefill_ms = 0;       // text and image embeddings through the text model
    double decode_ms = 0;        // generated tokens
    double total_ms = 0;         // the whole call, tokenisation included
};

// One turn of a conversation about an image; the first user turn holds Vlm::image_marker()
// once, where the image goes.
struct ChatTurn {
    enum class Role { System, User, Assistant };
    Role role = Role::User;
    std::string text;
};

// A conversation for the model to continue: the turns (the last one from the user) through
// the model's chat template with its generation prompt, then `answer_lead`, the start of the
// model's reply (e.g. "Answer: (", so that the next token is an option letter).
struct ChatPrompt {
    std::vector<ChatTurn> turns;
    std::string answer_lead;
};

struct DecodeParams {
    int max_tokens = 32;
    std::string grammar;     // GBNF (rule "root") the reply must follow; empty: free text
    float temperature = 0;   // 0: greedy; above 0: sampled at this temperature from `seed` (std::mt19937_64)
    std::uint32_t seed = 0;

    void validate() const;  // throws Error(InvalidArgument)
};

struct Generation {
    std::string text;                  // generated pieces, special tokens rendered, end-of-generation token excluded
    std::vector<std::int32_t> tokens;  // generated token ids, end-of-generation token excluded
    std::vector<std::size_t> text_offsets;  // where each token's piece starts in `text`
    StopReason stop_reason = StopReason::MaxTokens;
    int prompt_tokens = 0;  // text + image tokens fed before generation
    int image_tokens = 0;
    int reused_tokens = 0;  // prompt tokens already in the KV cache from the previous call (not evaluated)
    GenerationTimings timings;

    double prefill_tokens_per_s() const noexcept;  // evaluated prompt tokens over prefill time (encoder excluded)
};

// The model's next-token log-probabilities for a few continuations of a prompt: one forward
// step instead of a generated answer.
struct NextTokenScores {
    std::vector<double> log_probabilities;  // per continuation: log p(its first token | prompt), whole vocabulary
    std::vector<std::int32_t> tokens;       // that first token, per continuation
    int prompt_tokens = 0;
    int reused_tokens = 0;
    GenerationTimings timings;  // prefill and total
};

class Vlm {
public:
    // Validates the parameters and the files (see gguf_check.h), then loads both models.
    explicit Vlm(VlmParams params);
    ~Vlm();
    Vlm(const Vlm &) = delete;
    Vlm & operator=(const Vlm &) = delete;

    // Another session on this Vlm's loaded model: nothing is loaded again; a new llama context
    // (its KV cache sized by the context size) is made. Its answers equal this one's. The
    // loaded model lives as long as any of its sessions. Throws Error(InvalidModel) when
    // llama.cpp cannot make the context (out of memory).
    std::unique_ptr<Vlm> another_session() const;

    // The user turn for a question about one image: the media marker, a newline, the question.
    static std::string user_message(const std::string & question);

    // The full prompt after the model's chat template (generation prompt appended).
    std::string format_prompt(const std::string & user_message) const;

    // Runs the vision encoder and projector on `image` (once).
    ImageEncoding encode(const ImageView & image);

    // Answers `question` about an encoded image greedily from an empty context, feeding the
    // stored embeddings (the encoder does not run). Throws Error(InvalidInput) when the encoding
    // does not fit this model (other embedding width, or another image-token layout).
    Generation generate(const ImageEncoding & encoding, const std::string & question);

    // encode() then generate(): the answer is the same as from a stored encoding of the image.
    Generation generate(const ImageView & image, const std::string & question);

    // Continues a conversation about an encoded image (turns, then the answer lead).
    Generation generate(const ImageEncoding & encoding, const ChatPrompt & prompt, const DecodeParams & decode);
    // Continues a conversation without an image (no turn holds the image marker); works with
    // or without a vision projector.
    Generation generate_text(const ChatPrompt & prompt, const DecodeParams & decode);
    // False when loaded without an mmproj (a text-only model): then every image method throws
    // Error(InvalidArgument) naming mmproj_path.
    bool has_vision() const noexcept;

    // Reads the next-token distribution after the prompt for each continuation: its first token
    // (the continuation tokenized after the answer lead, or alone where a BPE tokenizer merges
    // the two, as "(A"). Throws Error(InvalidArgument) when a continuation is empty or two
    // continuations start with the same token.
    NextTokenScores score_next_token(const ImageEncoding & encoding, const ChatPrompt & prompt,
                                     const std::vector<std::string> & continuations);

    // Where each image token of `encoding` comes from in its image (heat maps).
    ImageLayout image_layout(const ImageEncoding & encoding) const;

    // Receives the attention of every step that chooses a token from now on (nullptr: none):
    // per generate() call, step j chose generated token j, and when generation ended on the
    // end-of-generation token one more step chose it; per score_next_token() call, one step
    // (the one whose next-token distribution is scored). Throws Error(InvalidArgument) unless
    // the Vlm was loaded with VlmParams::capture_attention.
    void set_attention_observer(AttentionObserver * observer);

    // Asked before each generated token is sampled, with the tokens generated so far and the
    // call's most: false stops the call with Error(Cancelled), the KV cache keeping what was
    // decoded, so the next call is answered as from a fresh start. None (the default): never stops.
    using KeepGoing = std::function<bool(int generated, int max_tokens)>;
    void set_keep_going(KeepGoing keep_going);

    // Where the image goes in a ChatTurn's text.
    static const char * image_marker() noexcept;

    // Images the vision encoder has run on since the model was loaded (every session's).
    std::size_t encoder_runs() const noexcept;

    // The tensor of the vision graph whose token mean is ImageEncoding::encoder_mean.
    const EncoderTap & encoder_tap() const noexcept;

    const VlmParams & params() const noexcept;

private:
    struct Impl;
    explicit Vlm(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace dermlens::model
