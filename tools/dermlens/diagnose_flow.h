// What `diagnose`, `demo` and `tune` share: their options declared once, and one
// pipeline session — the model, knowledge base, probe, embedding cache and re-ranker
// loaded once — through which images are diagnosed one after another, each encoded
// exactly once (or read from the cache), each failure reported without stopping the others.
#pragma once

#include "dermlens/error.h"
#include "eval/manifest.h"
#include "grounding/attention_map.h"
#include "kb/knowledge_base.h"
#include "model/vlm.h"
#include "pipeline/clinical_context.h"
#include "pipeline/grounding_report.h"
#include "pipeline/rerank.h"
#include "probe/probe.h"
#include "vision/embedding_cache.h"
#include "vision/encoder_identity.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::cli {

struct RuntimeOptions {
    int threads = 0;  // set to the machine's core count by add_runtime_options
    int context_size = 4096;
    int batch_size = 512;
    int max_tokens = 64;  // of a free answer (--decide generate); descriptions are bounded by their schema
    unsigned seed = 0;
    float temperature = 0;  // of generated text; 0 = greedy
    std::string flash_attention = "auto";
    std::string vision_flash_attention = "off";
    double max_megapixels = 100.0;
    bool json = false;
    bool verbose = false;

    // Validated model parameters for these options (throws Error(InvalidArgument)).
    model::VlmParams vlm_params(const std::filesystem::path & model, const std::filesystem::path & mmproj) const;
};

void add_runtime_options(CLI::App & app, RuntimeOptions & options);

// How each image is decided: --strategy --style --schema --decide --probe --candidates
// --top-k --alpha --not-sure --abstain-below --shuffle-options.
struct DecisionOptions {
    std::string strategy;  // default given to add_decision_options
    std::string style = "dermlens";
    std::string schema = "five-criteria";
    std::string decide = "score";
    std::string probe;  // empty: no probe
    std::string candidates = "topk";
    std::size_t top_k = 5;
    std::optional<double> alpha;
    std::optional<std::string> score;  // --candidates conformal: recalibrate the probe for this score
    bool per_class = false;            // ... or for class-conditional sets
    bool not_sure = false;
    double abstain_below = 0.0;
    bool shuffle_options = false;

    // The pipeline's parameters, validated before any model is loaded: throws
    // Error(InvalidArgument) for a bad name, a topk strategy without --probe, --alpha
    // without --candidates conformal, or options that do not fit each other.
    pipeline::RerankParams params(const RuntimeOptions & runtime) const;
};

void add_decision_options(CLI::App & app, DecisionOptions & options, const std::string & default_strategy);

// The classes to choose among (--labels, --label-set) and the knowledge base naming them (--kb).
struct ClassOptions {
    std::string labels;     // comma-separated
    std::string label_set;  // knowledge-base label set
    std::vector<std::string> kb_overlays;

    // Without a probe --labels or --label-set is needed; with one the probe's classes are
    // the labels, so --labels is refused. Throws Error(InvalidArgument).
    void validate(bool with_probe) const;
    // validate(), then the probe of --probe (checked against --label-set), or none when `probe_path` is empty.
    std::optional<probe::Probe> load_probe(const std::string & probe_path) const;
    kb::KnowledgeBase load_kb() const;  // the shipped knowledge base, then the overlays in order
    // --labels, or every label of --label-set.
    std::vector<std::string> label_list(const kb::KnowledgeBase & kb) const;
};

void add_class_options(CLI::App & app, ClassOptions & options);  // --labels, --label-set and --kb
void add_kb_overlay_option(CLI::App & app, ClassOptions & options);  // --kb alone

// What the model looked at (docs/grounding.md): --attention, --attention-layers,
// --attention-reduce; with `with_outputs` (diagnose) also --heatmap DIR and --mask FILE.
struct AttentionOptions {
    bool attention = false;      // capture attention and report its statistics
    std::string layers;          // "FIRST:LAST", empty: every layer
    std::string reduce = "mean";
    std::string heatmap_dir;     // per image: label.png, all.png overlays and the grids as .npy
    std::string mask;            // the lesion mask of the one command-line image

    bool requested() const noexcept { return attention || !heatmap_dir.empty() || !mask.empty(); }
    // The reduction when attention is requested; throws Error(InvalidArgument) for a bad value.
    std::optional<grounding::AttentionReduction> reduction() const;
};

void add_attention_options(CLI::App & app, AttentionOptions & options, bool with_outputs);

// --cache FILE: the embedding cache images are read from and new encodings stored in.
void add_cache_option(CLI::App & app, std::string & cache);

// --age --sex --site --history --fitzpatrick, kept as text so that a bad number is an
// error naming the option (exit 2) rather than a parse failure.
struct ContextOptions {
    std::string age;
    std::string sex;
    std::string site;
    std::string history;
    std::string fitzpatrick;

    pipeline::ClinicalContext context() const;  // validated; throws Error(InvalidArgument)
};

void add_context_options(CLI::App & app, ContextOptions & options);

// An image to diagnose and what comes with it.
struct ImageInput {
    std::string name;  // as given: the command-line path or the manifest's image field
    std::filesystem::path path;
    pipeline::ClinicalContext context;
    std::string label;  // the manifest's label; "" for images named on the command line
    std::optional<std::filesystem::path> mask;  // lesion mask file (--mask, or the manifest's `mask` column)
    std::string box;                            // lesion box "x0,y0,x1,y1" (the manifest's `box` column)
};

// The command-line images, each with `context`.
std::vector<ImageInput> command_line_inputs(const std::vector<std::string> & images,
                                            const pipeline::ClinicalContext & context);

// The manifest's rows with their clinical context: `given` (the options) plus the manifest's
// columns named age, sex, site, history, fitzpatrick (a row's empty cell gives nothing), and
// the lesion's `mask` file (relative to the manifest's folder) or `box`.
// Throws Error(InvalidArgument) when a field comes from both an option and a column, and
// Error(InvalidInput) naming the manifest line for a bad value in a column.
std::vector<ImageInput> manifest_inputs(const eval::Manifest & manifest, const pipeline::ClinicalContext & given);

// The folder of one image's heat maps (and other per-image outputs): its name as given (an
// absolute path: the file's name), extension dropped, separators made underscores, so that
// images of the same name in different class folders of a manifest do not collide.
std::string heatmap_folder_name(const std::string & image_name);

// The first 16 hex digits of the image's SHA-256: seeds the shuffled option order per image.
std::uint64_t image_seed(const std::string & sha256);

struct FileDigest {
    std::filesystem::path path;
    std::string sha256;
};

// One image's outcome: its re-ranked result, or the error that stopped it.
struct ImageReport {
    ImageInput input;
    std::string sha256;
    int width = 0;  // as decoded, orientation applied, before the encoder's own resizing
    int height = 0;
    bool from_cache = false;  // the encoding came from the embedding cache (the encoder did not run)
    std::optional<pipeline::RerankResult> result;
    std::optional<pipeline::GroundingReport> grounding;  // with attention capture
    std::optional<Error> error;
};

class PipelineSession {
public:
    // Validates every option, then loads the knowledge base, the probe, the model and the
    // cache (when `cache` is not empty). Throws dermlens::Error.
    PipelineSession(const std::string & model, const std::string & mmproj, const RuntimeOptions & runtime,
                    const DecisionOptions & decision, const ClassOptions & classes, const std::string & cache,
                    const AttentionOptions & attention = {});
    ~PipelineSession();
    // The re-ranker refers to the session's model and knowledge base: the session stays where it is.
    PipelineSession(const PipelineSession &) = delete;
    PipelineSession & operator=(const PipelineSession &) = delete;

    // Decodes (unless cached), encodes (unless cached) and re-ranks one image file; every
    // dermlens::Error concerning this image ends up in the report, not thrown.
    ImageReport diagnose(const ImageInput & input);
    // The same for decoded pixels that have no file (the demo's generated image).
    ImageReport diagnose_pixels(const ImageInput & input, const std::string & sha256, const model::ImageView & image);

    const probe::Probe * probe() const noexcept { return probe_ ? &*probe_ : nullptr; }
    const pipeline::RerankParams & params() const noexcept { return params_; }
    const FileDigest & model_file() const noexcept { return model_; }
    std::size_t encoded() const noexcept;    // images the vision encoder ran on
    std::size_t from_cache() const noexcept { return from_cache_; }

    // Per image: image, model, mmproj, the pipeline's report (docs/diagnose-json.md), settings;
    // or image and error.
    nlohmann::ordered_json to_json(const ImageReport & report) const;
    std::string to_text(const ImageReport & report) const;

private:
    ImageReport run(const ImageInput & input, const std::function<model::ImageEncoding(ImageReport &)> & encode,
                    const std::function<cv::Mat3b()> & pixels);
    pipeline::GroundingReport ground(const ImageInput & input, const pipeline::AttentionEvidence & evidence,
                                     const cv::Mat3b & rgb, const std::optional<grounding::LesionMask> & mask) const;

    RuntimeOptions runtime_;
    AttentionOptions attention_;
    pipeline::RerankParams params_;
    kb::KnowledgeBase kb_;
    std::optional<probe::Probe> probe_;
    FileDigest model_;
    FileDigest mmproj_;
    vision::EncoderIdentity identity_;
    std::unique_ptr<vision::EmbeddingCache> cache_;
    std::unique_ptr<model::Vlm> vlm_;
    std::unique_ptr<pipeline::Reranker> reranker_;
    std::size_t from_cache_ = 0;
};

// Diagnoses each input and prints the reports as text (as they come) or as one JSON array
// (at the end), then a summary line on stderr. A non-empty `notice` heads the text and is
// added to every JSON object. Returns the exit code: 0 when all succeeded, the error's code
// when the only image failed, 1 when some of several failed.
using DiagnoseOne = std::function<ImageReport(const ImageInput &)>;
int diagnose_and_print(PipelineSession & session, const std::vector<ImageInput> & inputs,
                       const DiagnoseOne & diagnose_one, bool json, const std::string & notice);

}  // namespace dermlens::cli
