// What `diagnose`, `demo`, `tune` and `ground` share: their options declared once and turned
// into the Engine's parameters (loaded once) and a DiagnoseRequest (per image), the images of
// the command line or a manifest with their clinical context and lesion, and the loop that
// diagnoses them one after another through the Engine (dermlens/engine.h) and prints each
// report, a failure reported without stopping the others (dermlens::stops_batch).
#pragma once

#include "dermlens/engine.h"
#include "dermlens/error.h"
#include "dermlens/quality.h"
#include "dermlens/quality_gate.h"
#include "dataset/manifest.h"

#include <CLI/CLI.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
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
    std::string vision_flash_attention = "auto";
    double max_megapixels = 100.0;
    bool prefix_reuse = true;  // --no-prefix-reuse: Gemma 3's sliding-window cache at its window size
    bool json = false;
    bool verbose = false;

    // The Engine's runtime fields and the request's decoding fields; throws Error(InvalidArgument).
    void fill(EngineParams & params) const;
    void fill(DiagnoseRequest & request) const;
    DecodeLimits limits() const;  // --max-megapixels; throws Error(InvalidArgument)
};

// What the loaded Engine runs with: --threads --ctx --batch --flash-attn --vision-flash-attn
// --max-megapixels --no-prefix-reuse --verbose (`serve` takes these alone: the rest is per request).
void add_engine_options(CLI::App & app, RuntimeOptions & options);
// Those, and the per-call decoding options --max-tokens --seed --temperature, and --json.
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

    // Refuses, in the flags' words, what does not fit: --alpha without --candidates conformal,
    // a probe strategy without --probe, a paper's style with --decide score. Throws Error(InvalidArgument).
    void validate() const;
    void fill(DiagnoseRequest & request) const;  // validate(), then the request's decision fields
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
    void fill(DiagnoseRequest & request) const;
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
    // The request's attention fields (heat maps are per image: see ImageInput); throws Error(InvalidArgument).
    void fill(DiagnoseRequest & request) const;
};

void add_attention_options(CLI::App & app, AttentionOptions & options, bool with_outputs);

// The image-quality gate before each diagnosis (docs/quality.md): --quality off|report|reject
// and --quality-thresholds FILE.
struct QualityGateOptions {
    std::string mode = "report";  // off: not run; report: in each report; reject: rejected images are not diagnosed
    std::string thresholds;       // empty: the data folder's quality/thresholds.json

    QualityGate gate() const;      // throws Error(InvalidArgument) for an unknown mode
    QualityParams params() const;  // throws Error(InvalidArgument) for an unknown mode or a missing file
};

void add_quality_gate_options(CLI::App & app, QualityGateOptions & options);

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

    ClinicalContext context() const;  // validated; throws Error(InvalidArgument)
};

void add_context_options(CLI::App & app, ContextOptions & options);

// An image to diagnose and what comes with it.
struct ImageInput {
    std::string name;  // as given: the command-line path or the manifest's image field
    std::filesystem::path path;
    ClinicalContext context;
    std::string label;  // the manifest's label; "" for images named on the command line
    std::optional<std::filesystem::path> mask;  // lesion mask file (--mask, or the manifest's `mask` column)
    std::string box;                            // lesion box "x0,y0,x1,y1" (the manifest's `box` column)
};

// The command-line images, each with `context`.
std::vector<ImageInput> command_line_inputs(const std::vector<std::string> & images, const ClinicalContext & context);

// The manifest's rows with their clinical context: `given` (the options) plus the manifest's
// columns named age, sex, site, history, fitzpatrick (a row's empty cell gives nothing), and
// the lesion's `mask` file (relative to the manifest's folder) or `box`.
// Throws Error(InvalidArgument) when a field comes from both an option and a column, and
// Error(InvalidInput) naming the manifest line for a bad value in a column.
std::vector<ImageInput> manifest_inputs(const dataset::Manifest & manifest, const ClinicalContext & given);

// The folder of one image's heat maps (and other per-image outputs): its name as given (an
// absolute path: the file's name), extension dropped, separators made underscores, so that
// images of the same name in different class folders of a manifest do not collide.
std::string heatmap_folder_name(const std::string & image_name);

// The Engine's parameters of these options.
EngineParams engine_params(const std::string & model, const std::string & mmproj, const RuntimeOptions & runtime,
                           const DecisionOptions & decision, const ClassOptions & classes, const std::string & cache,
                           bool capture_attention);

// One image's outcome: its diagnosis, the error that stopped it, or the quality gate's
// rejection (--quality reject: `refused`, with the gate's report and no diagnosis).
struct ImageReport {
    ImageInput input;
    std::optional<Diagnosis> diagnosis;
    std::optional<Error> error;
    std::optional<QualityReport> refused;
};

// The Engine of the command's options and the request every image is asked with: the options
// are checked (request and labels) before anything loads, the request against the loaded
// Engine before any image runs.
class DiagnoseSession {
public:
    DiagnoseSession(const std::string & model, const std::string & mmproj, const RuntimeOptions & runtime,
                    const DecisionOptions & decision, const ClassOptions & classes, const std::string & cache,
                    const AttentionOptions & attention = {}, const QualityGateOptions & quality = {"off", ""});

    // The image of `input` (from its file), or `image` when given (pixels without a file),
    // after the quality gate when it is on: every Error about this image ends up in the
    // report, not thrown.
    ImageReport diagnose(const ImageInput & input, const std::optional<Image> & image = std::nullopt);

    Engine & engine() noexcept { return engine_; }
    const DiagnoseRequest & request() const noexcept { return request_; }

private:
    RuntimeOptions runtime_;
    AttentionOptions attention_;
    QualityGateOptions quality_;
    QualityParams quality_params_;
    DiagnoseRequest request_;
    Engine engine_;
};

// Diagnoses each input and prints the reports as text (as they come) or as one JSON array
// (at the end), then a summary line on stderr. A non-empty `notice` heads the text and is
// added to every JSON object. An error that stops the batch (stops_batch) ends the loop; the
// reports so far are still printed. An image the quality gate refused is reported as refused
// and is neither a success nor a failure. Returns the exit code: 0 when all others succeeded, the error's
// code when the only image failed or the batch stopped, 1 when some of several failed.
using DiagnoseOne = std::function<ImageReport(const ImageInput &)>;
int diagnose_and_print(DiagnoseSession & session, const std::vector<ImageInput> & inputs,
                       const DiagnoseOne & diagnose_one, bool json, const std::string & notice);

// {"image": {"path"}, "error": {"kind", "message"}}: a failed image in a JSON report.
nlohmann::ordered_json error_json(const std::string & image, const Error & error);

}  // namespace dermlens::cli
