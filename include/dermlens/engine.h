// dermlens::Engine — grounded dermatological diagnosis with a vision-language model, as a
// library (paper 000): load the model, its vision projector, the knowledge base and an
// optional few-shot probe once; then, per image, encode it once (or read the encoding from
// the embedding cache), let the probe propose candidates, let the VLM describe the lesion and
// re-rank the candidates, and return the answer with its evidence.
//
// Example (compiled and run by tests/engine/test_usage_example.cpp):
//
//     #include <dermlens/engine.h>
//     #include <cstdio>
//
//     int main(int argc, char ** argv) {  // usage: example MODEL.gguf MMPROJ.gguf IMAGE
//         if (argc != 4) return 2;
//         try {
//             dermlens::EngineParams params;
//             params.model = argv[1];
//             params.mmproj = argv[2];
//             params.threads = 1;
//             dermlens::Engine engine(params);
//
//             dermlens::DiagnoseRequest request;
//             request.label_set = "isic9class";
//             request.strategy = "describe-then-decide";
//             const dermlens::Diagnosis diagnosis = engine.diagnose(dermlens::Image::from_file(argv[3]), request);
//             std::printf("%s\n", dermlens::to_json(diagnosis).dump(2).c_str());
//             return diagnosis.final ? 0 : 1;
//         } catch (const dermlens::Error & e) {
//             std::fprintf(stderr, "%s: %s\n", dermlens::error_kind_name(e.kind()), e.what());
//             return 3;
//         }
//     }
//
// What is loaded once (EngineParams) is kept apart from what each call asks (DiagnoseRequest),
// as whisper.cpp keeps its context and full parameters apart. Every method throws
// dermlens::Error and nothing else; a message about a parameter names it (Error::field()). A
// failure inside a library below (OpenCV, the standard library) is a defect, reported as
// Error(Runtime) naming the image ("image 'x.jpg': internal error: ..."), so that a batch goes on.
//
// Threads: calls from several threads are safe. The model is loaded once; EngineParams::parallel
// decoding sessions (each a llama.cpp context with its own KV cache on the shared weights) let
// that many diagnose() / generate() calls run at the same time, a further call waiting for a
// free session. The vision encoder is shared and encodes one image at a time, and concurrent
// calls for the same image bytes share one encoding.
#pragma once

#include "dermlens/diagnosis.h"
#include "dermlens/error.h"
#include "dermlens/image.h"
#include "dermlens/kb/knowledge_base.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens {

enum class FlashAttention { Auto, On, Off };

// One line of llama.cpp's or libmtmd's log. llama.cpp's logging is process-wide: the last
// Engine constructed decides where it goes (nowhere without a callback).
using LogCallback = std::function<void(std::string_view line)>;

struct EngineParams {
    std::filesystem::path model;            // GGUF text model
    std::filesystem::path mmproj;           // GGUF vision projector belonging to it; empty: a text-only Engine (generate only)
    std::filesystem::path probe;            // optional: a probe of this mmproj's encoder (`dermlens probe train`)
    // The probe's conformal sets recalibrated on its stored calibration rows (docs/probes.md):
    // the score "lac", "aps", "raps" or "aps-plain" (empty: the probe's own), per class or marginal.
    std::string conformal_score;
    bool per_class_calibration = false;
    std::filesystem::path embedding_cache;  // optional: SQLite embedding cache; cached images are not encoded again
    std::vector<std::filesystem::path> kb_overlays;  // knowledge-base folders extending the shipped one, in order
    // Prompts, grammars and the knowledge base; empty: $DERMLENS_DATA_DIR, else the installed
    // share/dermlens, else the source tree's data/.
    std::filesystem::path data_dir;
    // CPU threads in all; 0: every core. A call computing alone uses them all; calls computing at
    // once share them (docs/server.md, "Under load").
    int threads = 0;
    // Decoding sessions: calls that run at the same time. Each costs one more KV cache of
    // context_size tokens (docs/server.md: about 0.5 GiB for Gemma-3-4B at 4096); the weights,
    // the vision encoder and the embedding cache are shared.
    int parallel = 1;
    int context_size = 4096;  // tokens, image tokens included
    int batch_size = 512;     // logical batch for prompt processing
    // Flash attention in the text model and the vision encoder. auto: the faster path on this
    // CPU, timed at the model's shapes once and remembered in the cache folder (docs/pipeline.md).
    FlashAttention flash_attention = FlashAttention::Auto;
    FlashAttention vision_flash_attention = FlashAttention::Auto;
    // Make attention maps possible (DiagnoseRequest::attention): the text model then runs
    // without flash attention, so flash_attention must not be On.
    bool capture_attention = false;
    // Keep the KV cache between calls and evaluate only what a prompt does not share with the
    // previous one (the same answers, a fraction of the time); off: every call starts empty.
    bool reuse_prefix = true;
    LogCallback log;

    // Throws Error(InvalidArgument) naming the field: empty model or mmproj, threads below 0,
    // parallel, a context or batch size below 1, capture_attention with flash_attention On.
    void validate() const;
};

// Which part of a call has been reached: "encode" (before the vision encoder), "decide" (the
// re-ranking begins), "generate" before each generated token (description or free answer),
// `step` tokens generated of at most `total` (0 and 0 for the other stages).
using ProgressCallback = std::function<void(std::string_view stage, int step, int total)>;
// Asked before the encoder runs, while waiting for another call's encoding of the same image,
// and before every decoded token: true stops the call, which then throws Error(Cancelled); the
// Engine stays usable.
using ShouldStopCallback = std::function<bool()>;

// Paper 000's attention maps (eq. 2-4) of a diagnosis; the Engine must capture attention.
struct AttentionRequest {
    bool enabled = false;
    std::optional<int> first_layer;  // layers averaged: default every layer
    std::optional<int> last_layer;
    std::string reduce = "mean";     // over heads and layers: "mean" or "max"
    std::filesystem::path heatmap_dir;  // non-empty: write label.png, all.png, label.npy, all.npy here
};

// The lesion, for the share of attention on it and the pointing game: a mask file (nonzero =
// lesion) or a box "x0,y0,x1,y1" in pixels; neither: no lesion statistics.
struct LesionRequest {
    std::filesystem::path mask_file;
    std::string box;
};

struct DiagnoseRequest {
    // The classes to choose among: `labels` (names the knowledge base resolves), or every
    // label of `label_set`, or both (the labels named in that set). With a probe loaded the
    // probe's classes are the labels, and `labels` must stay empty.
    std::vector<std::string> labels;
    std::string label_set;
    std::string strategy = "direct";      // direct | in-context | describe-then-decide | topk | combined
    std::string style = "dermlens";       // dermlens | skinvl | skin-r1 | skinflow (the papers' need decide "generate")
    std::string schema = "five-criteria";  // the description's: five-criteria | skinflow
    std::string decide = "score";         // score: option-letter probabilities; generate: a parsed free answer
    std::string candidates = "topk";      // topk | combined: the probe's top_k, or its conformal set
    std::size_t top_k = 5;
    std::optional<double> alpha;          // conformal: miscoverage (default: the probe's)
    bool not_sure = false;                // offer a "not sure" option; choosing it abstains
    double abstain_below = 0;             // abstain when the top fused probability is below this
    bool shuffle_options = false;         // shuffled per image (seed and image hash): position bias
    ClinicalContext context;
    AttentionRequest attention;
    LesionRequest lesion;
    std::uint32_t seed = 0;               // of sampling and of the shuffled order
    float temperature = 0;                // of generated text; 0: greedy
    int max_tokens = 64;                  // of a free answer; descriptions are bounded by their grammar
    ProgressCallback progress;
    ShouldStopCallback should_stop;

    // Throws Error(InvalidArgument) naming the field for an unknown name, a value out of
    // range, or fields that do not fit each other (alpha without conformal candidates).
    void validate() const;
};

// One message of a conversation for Engine::generate.
struct ChatMessage {
    std::string role;  // "system" | "user" | "assistant"
    std::string text;
};

// One free generation: a conversation (its last message from the user), optionally about an
// image, continued by the model under an optional GBNF grammar. The free questions of the
// server's chat endpoint, judge models, data writers.
struct GenerateRequest {
    std::vector<ChatMessage> messages;
    std::optional<Image> image;  // put before the first user message's text; needs an mmproj
    std::string grammar;         // GBNF with rule "root"; empty: free text
    std::string answer_lead;     // the start of the reply, which the model continues
    int max_tokens = 256;
    float temperature = 0;       // 0: greedy; above 0: sampled from `seed`
    std::uint32_t seed = 0;
    ProgressCallback progress;   // stages "encode" and "generate"
    ShouldStopCallback should_stop;

    // Throws Error(InvalidArgument) naming the field: no messages, an unknown role, a last
    // message not from the user, max_tokens below 1, a negative temperature.
    void validate() const;
};

struct GeneratedText {
    std::string text;           // the reply after the answer lead
    std::string finish_reason;  // "stop": the model ended it; "length": max_tokens reached
    int prompt_tokens = 0;      // image tokens included
    int image_tokens = 0;
    int completion_tokens = 0;
    bool image_from_cache = false;  // the image's encoding came from the embedding cache
    double encode_ms = 0;       // 0 without an image or from the cache
    double prefill_ms = 0;
    double decode_ms = 0;
    double total_ms = 0;
};

// One image through the vision encoder: what the probe reads and what the text model reads,
// reusable for any number of diagnoses.
class EncodedImage {
public:
    ImageInfo image;

    std::span<const float> encoder_mean() const;    // the encoder's last hidden state, mean over tokens (the probe's features)
    std::span<const float> projected_mean() const;  // the projected image embeddings' mean
    int image_tokens() const;                       // tokens the text model reads
    double encode_ms() const;                       // 0 when it came from the embedding cache

    struct Data;  // the encoding itself and the image it came from (opaque)
    std::shared_ptr<const Data> data;
};

struct FileInfo {
    std::filesystem::path path;
    std::string sha256;
};

struct ProbeInfo {
    std::filesystem::path path;
    std::vector<std::string> classes;
    std::string label_set;
    std::string feature_kind;             // encoder-mean | projected-mean
    std::optional<double> fusion_weight;  // tuned with `dermlens tune`
};

struct EngineInfo {
    FileInfo model;
    FileInfo mmproj;
    std::optional<ProbeInfo> probe;
    std::filesystem::path embedding_cache;  // empty: none
    std::filesystem::path data_dir;
    int threads = 0;              // in all
    int parallel = 1;             // decoding sessions
    std::size_t busy_sessions = 0;  // sessions running a call now
    int context_size = 0;
    int batch_size = 0;
    FlashAttention flash_attention = FlashAttention::Auto;
    FlashAttention vision_flash_attention = FlashAttention::Auto;
    // The paths that run (auto resolved) and why: "auto, on: flash 12.0 ms vs plain 30.0 ms per attention".
    FlashAttention flash_attention_ran = FlashAttention::Off;
    FlashAttention vision_flash_attention_ran = FlashAttention::Off;
    std::string flash_attention_why;
    std::string vision_flash_attention_why;
    bool capture_attention = false;
    std::size_t encoder_runs = 0;  // images the vision encoder ran on
    std::size_t cache_hits = 0;    // encodings read from the embedding cache or shared with a concurrent call
    std::vector<std::string> warnings;  // e.g. a probe fusion weight tuned with another model
};

const char * flash_attention_name(FlashAttention mode) noexcept;  // "auto" | "on" | "off"
// Throws Error(InvalidArgument) naming `field` for anything but auto, on, off.
FlashAttention parse_flash_attention(std::string_view text, const std::string & field = "flash_attention");

// The one per-item failure policy of every batch (diagnose, ground, embed, eval): an error
// about the item (InvalidInput: its file, pixels or row; Runtime: its inference) fails that
// item and the batch goes on; one about the setup (InvalidArgument, InvalidModel) or a
// cancellation stops the batch, since every later item would fail alike.
bool stops_batch(const Error & error) noexcept;

class Engine {
public:
    // Validates the parameters, then loads the knowledge base, the probe, the model pair and
    // the embedding cache. Throws Error: InvalidArgument for parameters, InvalidModel for the
    // model files, InvalidInput for a probe or cache file that cannot be used.
    explicit Engine(EngineParams params);
    ~Engine();
    Engine(const Engine &) = delete;
    Engine & operator=(const Engine &) = delete;

    // The encoding of `image`: the embedding cache's, or the encoder's (then stored in the cache).
    EncodedImage encode(const Image & image, const ShouldStopCallback & should_stop = {});
    // encode(), then diagnose the encoding.
    Diagnosis diagnose(const Image & image, const DiagnoseRequest & request);
    // A diagnosis from an encoding (the encoder does not run). Heat maps need the encoding's image.
    Diagnosis diagnose(const EncodedImage & encoded, const DiagnoseRequest & request);

    // Continues the request's conversation; with an image, the image is encoded through the
    // embedding cache like diagnose()'s. Throws Error: InvalidArgument for the request (an
    // image on a text-only Engine), InvalidInput for the image, Cancelled, Runtime.
    GeneratedText generate(const GenerateRequest & request);
    bool has_vision() const noexcept;  // false for a text-only Engine (no mmproj)

    // Checks `request` against this Engine without running anything: its fields, its labels
    // (they must resolve in the knowledge base or be the probe's), attention capture. Throws
    // what diagnose() would throw before encoding.
    void check(const DiagnoseRequest & request) const;

    const kb::KnowledgeBase & kb() const noexcept;
    EngineInfo info() const;

private:
    struct Impl;
    friend struct EngineInternals;  // src/engine/internals.h: the layers above the Engine (evaluation)
    std::unique_ptr<Impl> impl_;
};

}  // namespace dermlens
