// A vision-language model loaded once and queried with one image at a time.
//
// Wraps libllama (text model, KV cache, greedy decoding) and libmtmd (vision
// encoder + projector). Each generate() call starts from an empty KV cache, so
// answers for different images are independent and reproducible. The chat
// template comes from the GGUF; the prompt is one user turn holding the image
// followed by the question.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace dermlens::model {

enum class FlashAttention { Auto, On, Off };

const char * flash_attention_name(FlashAttention mode) noexcept;
FlashAttention parse_flash_attention(const std::string & text);  // "auto" | "on" | "off"; throws InvalidArgument

struct VlmParams {
    std::filesystem::path model_path;   // GGUF text model
    std::filesystem::path mmproj_path;  // GGUF vision projector belonging to it
    int threads = 4;
    int context_size = 4096;    // tokens, image tokens included
    int batch_size = 512;       // logical batch for prompt processing
    int max_tokens = 32;        // generated tokens at most (the answer is a letter or a label)
    std::uint32_t seed = 0;     // kept for sampling strategies; greedy decoding does not use it
    FlashAttention text_flash_attention = FlashAttention::Auto;
    // Off by default: on CPU the SigLIP encoder is ~2.7x slower with it (Gemma-3-4B, 896 px: 228 s vs 84 s).
    FlashAttention vision_flash_attention = FlashAttention::Off;
    bool verbose = false;  // let llama.cpp / libmtmd log to stderr

    void validate() const;  // throws Error(InvalidArgument) naming the bad value
};

struct ImageView {
    int width = 0;
    int height = 0;
    const std::uint8_t * rgb = nullptr;  // width * height * 3 bytes, row-major RGB
};

enum class StopReason { EndOfGeneration, MaxTokens };
const char * stop_reason_name(StopReason reason) noexcept;

struct GenerationTimings {
    double image_encode_ms = 0;  // vision encoder + projector
    double prefill_ms = 0;       // text and image embeddings through the text model
    double decode_ms = 0;        // generated tokens
    double total_ms = 0;         // the whole call, tokenisation included
};

struct Generation {
    std::string text;                  // generated pieces, special tokens rendered, end-of-generation token excluded
    std::vector<std::int32_t> tokens;  // generated token ids, end-of-generation token excluded
    StopReason stop_reason = StopReason::MaxTokens;
    int prompt_tokens = 0;  // text + image tokens fed before generation
    int image_tokens = 0;
    GenerationTimings timings;

    double prefill_tokens_per_s() const noexcept;  // prompt tokens over prefill time (encoder excluded)
    double decode_tokens_per_s() const noexcept;   // generated tokens over decode time
};

class Vlm {
public:
    // Validates the parameters and the files (see gguf_check.h), then loads both models.
    explicit Vlm(VlmParams params);
    ~Vlm();
    Vlm(const Vlm &) = delete;
    Vlm & operator=(const Vlm &) = delete;

    // The user turn for a question about one image: the media marker, a newline, the question.
    static std::string user_message(const std::string & question);

    // The full prompt after the model's chat template (generation prompt appended).
    std::string format_prompt(const std::string & user_message) const;

    // Answers `question` about `image` greedily from an empty context.
    Generation generate(const ImageView & image, const std::string & question);

    const VlmParams & params() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dermlens::model
