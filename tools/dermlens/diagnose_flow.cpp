#include "diagnose_flow.h"

#include "cli_errors.h"
#include "pipeline/direct.h"
#include "pipeline/prompt.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <thread>

namespace dermlens::cli {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

// A whole number in `text`, or Error(kind) "<what> '<text>': expected <expected>".
int parse_whole_number(const std::string & text, const std::string & what, const char * expected, ErrorKind kind) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        throw Error(kind, fmt::format("{} '{}': expected {}", what, text, expected));
    }
    return value;
}

constexpr const char * kAgeExpected = "a whole number of years, 0 to 120";
constexpr const char * kFitzpatrickExpected = "a Fitzpatrick skin type, 1 to 6";

void print_to_stderr(std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

std::string heatmap_folder_name(const std::string & image_name) {
    const fs::path given(image_name);
    fs::path kept = given.is_absolute() ? given.filename() : given;
    std::string name = kept.replace_extension().string();
    std::replace_if(name.begin(), name.end(), [](char c) { return c == '/' || c == '\\' || c == ':'; }, '_');
    return name.empty() ? "image" : name;
}

void RuntimeOptions::fill(EngineParams & params) const {
    if (threads < 1) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("--threads {}: threads must be positive", threads));
    }
    params.threads = threads;
    params.context_size = context_size;
    params.batch_size = batch_size;
    params.flash_attention = parse_flash_attention(flash_attention, "flash_attention");
    params.vision_flash_attention = parse_flash_attention(vision_flash_attention, "vision_flash_attention");
    params.reuse_prefix = prefix_reuse;
    if (verbose) {
        params.log = print_to_stderr;
    }
}

void RuntimeOptions::fill(DiagnoseRequest & request) const {
    request.max_tokens = max_tokens;
    request.seed = seed;
    request.temperature = temperature;
}

DecodeLimits RuntimeOptions::limits() const {
    if (!(max_megapixels > 0)) {
        throw Error(ErrorKind::InvalidArgument, "--max-megapixels must be positive");
    }
    return DecodeLimits{static_cast<std::uint64_t>(max_megapixels * 1e6)};
}

void add_engine_options(CLI::App & app, RuntimeOptions & options) {
    options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    app.add_option("--threads,-t", options.threads, "CPU threads for the text model and the vision encoder")
        ->capture_default_str()
        ->envname("DERMLENS_THREADS");
    app.add_option("--ctx", options.context_size, "Context size in tokens (image tokens included)")
        ->capture_default_str()
        ->envname("DERMLENS_CTX");
    app.add_option("--batch", options.batch_size, "Logical batch size for prompt processing")
        ->capture_default_str()
        ->envname("DERMLENS_BATCH");
    app.add_option("--flash-attn", options.flash_attention,
                   "Flash attention in the text model: on, off or auto (the faster on this CPU, measured once)")
        ->capture_default_str()
        ->envname("DERMLENS_FLASH_ATTN");
    app.add_option("--vision-flash-attn", options.vision_flash_attention,
                   "Flash attention in the vision encoder: on, off or auto (the faster on this CPU, measured once; "
                   "dermlens bench-cpu)")
        ->capture_default_str()
        ->envname("DERMLENS_VISION_FLASH_ATTN");
    app.add_option("--max-megapixels", options.max_megapixels, "Refuse images larger than this many megapixels")
        ->capture_default_str()
        ->envname("DERMLENS_MAX_MEGAPIXELS");
    app.add_flag("!--no-prefix-reuse", options.prefix_reuse,
                 "Evaluate every prompt whole instead of keeping the prefix it shares with the previous one: "
                 "the same results, less memory for Gemma 3 (its sliding-window cache is then window-sized), "
                 "more prompt time (docs/pipeline.md)");
    app.add_flag("--verbose", options.verbose, "Show llama.cpp's and libmtmd's logs on stderr");
}

void add_runtime_options(CLI::App & app, RuntimeOptions & options) {
    add_engine_options(app, options);
    app.add_option("--max-tokens", options.max_tokens,
                   "Most tokens of a free answer (--decide generate); descriptions are bounded by their schema")
        ->capture_default_str()
        ->envname("DERMLENS_MAX_TOKENS");
    app.add_option("--seed", options.seed, "Seed of sampling (--temperature above 0) and of the shuffled option order")
        ->capture_default_str()
        ->envname("DERMLENS_SEED");
    app.add_option("--temperature", options.temperature,
                   "Sampling temperature of generated text (description, free answer); 0 = greedy, deterministic")
        ->capture_default_str()
        ->envname("DERMLENS_TEMPERATURE");
    app.add_flag("--json", options.json, "Print JSON (docs/diagnose-json.md) instead of text");
}

void AttentionOptions::fill(DiagnoseRequest & request) const {
    request.attention.enabled = requested();
    request.attention.reduce = reduce;
    if (!layers.empty()) {
        const auto colon = layers.find(':');
        if (colon == std::string::npos) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("--attention-layers must be FIRST:LAST, e.g. 0:33 (got '{}')", layers));
        }
        const auto layer = [&](const std::string & text) {
            return parse_whole_number(text, "attention-layers", "FIRST:LAST, e.g. 0:33", ErrorKind::InvalidArgument);
        };
        request.attention.first_layer = layer(layers.substr(0, colon));
        request.attention.last_layer = layer(layers.substr(colon + 1));
    }
}

void add_attention_options(CLI::App & app, AttentionOptions & options, bool with_outputs) {
    app.add_flag("--attention", options.attention,
                 "Capture the text model's attention over the image and report its statistics (text model's flash "
                 "attention off)");
    app.add_option("--attention-layers", options.layers, "Layers averaged into the attention maps, FIRST:LAST (default: all)")
        ->envname("DERMLENS_ATTENTION_LAYERS");
    app.add_option("--attention-reduce", options.reduce, "How heads and layers are combined: mean or max")
        ->capture_default_str()
        ->envname("DERMLENS_ATTENTION_REDUCE");
    if (with_outputs) {
        app.add_option("--heatmap", options.heatmap_dir,
                       "Write each image's attention heat maps here: <image>/label.png, all.png and the token grids "
                       "label.npy, all.npy (implies --attention)");
        app.add_option("--mask", options.mask,
                       "Lesion mask of the image (PNG, nonzero = lesion): attention share on the lesion and pointing "
                       "game (implies --attention; a manifest gives masks in its `mask` or `box` column)");
    }
}

QualityGate QualityGateOptions::gate() const {
    try {
        return parse_quality_gate(mode);
    } catch (const Error &) {  // said in the flag's words
        throw Error(ErrorKind::InvalidArgument, fmt::format("--quality '{}': must be off, report or reject", mode));
    }
}

QualityParams QualityGateOptions::params() const {
    gate();
    QualityParams params;
    params.thresholds = thresholds;
    try {
        params.validate();
    } catch (const Error &) {  // the library names its field; here the flag is --quality-thresholds
        throw Error(ErrorKind::InvalidArgument, fmt::format("--quality-thresholds '{}': no such file", thresholds));
    }
    return params;
}

void add_quality_gate_options(CLI::App & app, QualityGateOptions & options) {
    app.add_option("--quality", options.mode,
                   "The image-quality gate before diagnosing (docs/quality.md): off; report (its verdict in each "
                   "report); reject (also refuse to diagnose rejected images)")
        ->capture_default_str()
        ->envname("DERMLENS_QUALITY");
    app.add_option("--quality-thresholds", options.thresholds,
                   "The gate's thresholds file (default: the data folder's quality/thresholds.json)");
}

void DecisionOptions::validate() const {
    if (alpha && candidates != "conformal") {
        throw Error(ErrorKind::InvalidArgument, "--alpha only applies with --candidates conformal");
    }
    if ((score || per_class) && candidates != "conformal") {
        throw Error(ErrorKind::InvalidArgument, "--score and --per-class only apply with --candidates conformal");
    }
    if (pipeline::strategy_parts(pipeline::parse_strategy(strategy)).probe_candidates && probe.empty()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("--strategy {} takes its candidates from a probe: give --probe P.probe", strategy));
    }
    if (decide == "score" && pipeline::parse_style(style) != pipeline::PromptStyle::Dermlens) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("style '{}' asks for a free answer: use --decide generate", style));
    }
}

void DecisionOptions::fill(DiagnoseRequest & request) const {
    validate();
    request.strategy = strategy;
    request.style = style;
    request.schema = schema;
    request.decide = decide;
    request.candidates = candidates;
    request.top_k = top_k;
    request.alpha = alpha;
    request.not_sure = not_sure;
    request.abstain_below = abstain_below;
    request.shuffle_options = shuffle_options;
}

void add_decision_options(CLI::App & app, DecisionOptions & options, const std::string & default_strategy) {
    options.strategy = default_strategy;
    app.add_option("--strategy", options.strategy,
                   "direct (options only), in-context (each option with its knowledge-base description), "
                   "describe-then-decide (describe the lesion first), topk (the probe's candidates), combined (all)")
        ->capture_default_str()
        ->envname("DERMLENS_STRATEGY");
    app.add_option("--style", options.style,
                   "Prompt wording: dermlens, skinvl, skin-r1 or skinflow (the papers' styles need --decide generate)")
        ->capture_default_str()
        ->envname("DERMLENS_STYLE");
    app.add_option("--schema", options.schema, "Description schema of describe-then-decide: five-criteria or skinflow")
        ->capture_default_str();
    app.add_option("--decide", options.decide,
                   "score: the VLM's next-token probabilities over the option letters; generate: a free answer, parsed")
        ->capture_default_str();
    app.add_option("--probe", options.probe,
                   "Probe file (dermlens probe train) for the model's encoder: its classes are the labels, its "
                   "probabilities are fused with the VLM's")
        ->envname("DERMLENS_PROBE");
    app.add_option("--candidates", options.candidates,
                   "topk/combined strategies: the probe's top-k classes (topk) or its conformal set (conformal)")
        ->capture_default_str();
    app.add_option("--top-k", options.top_k, "--candidates topk: how many of the probe's classes")->capture_default_str();
    app.add_option("--alpha", options.alpha,
                   "--candidates conformal: miscoverage of the set (default: the probe's calibrated alpha)");
    app.add_option("--score", options.score,
                   "--candidates conformal: lac, aps, raps or aps-plain (default: the probe's; another recalibrates "
                   "on its calibration rows, docs/probes.md)");
    app.add_flag("--per-class", options.per_class,
                 "--candidates conformal: class-conditional sets, coverage >= 1 - alpha for every class");
    app.add_flag("--not-sure", options.not_sure, "Offer a \"not sure\" option; choosing it abstains");
    app.add_option("--abstain-below", options.abstain_below,
                   "Abstain when the top candidate's fused probability is below this (0: never)")
        ->capture_default_str();
    app.add_flag("--shuffle-options", options.shuffle_options,
                 "Shuffle the option order per image (seeded by --seed and the image): measures position bias");
}

void ClassOptions::validate(bool with_probe) const {
    if (with_probe && !labels.empty()) {
        throw Error(ErrorKind::InvalidArgument, "--labels: with --probe the probe's classes are the labels");
    }
    if (!with_probe && labels.empty() && label_set.empty()) {
        throw Error(ErrorKind::InvalidArgument, "give the classes to choose among: --labels \"a,b,...\", --label-set "
                                                "NAME or --probe P.probe");
    }
}

void ClassOptions::fill(DiagnoseRequest & request) const {
    if (!labels.empty()) {
        request.labels = pipeline::parse_label_list(labels);
    }
    request.label_set = label_set;
}

void add_class_options(CLI::App & app, ClassOptions & options) {
    app.add_option("--labels", options.labels,
                   "Comma-separated labels to choose among, e.g. \"melanoma,nevus\" (names the knowledge base knows)");
    app.add_option("--label-set", options.label_set,
                   "Knowledge-base label set: its labels (all, or those of --labels) name the classes");
    add_kb_overlay_option(app, options);
}

void add_kb_overlay_option(CLI::App & app, ClassOptions & options) {
    app.add_option("--kb", options.kb_overlays, "Knowledge-base folder extending the shipped data/kb/ (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void add_cache_option(CLI::App & app, std::string & cache) {
    app.add_option("--cache", cache,
                   "Embedding cache file (dermlens embed): cached images are not encoded again, new ones are stored")
        ->envname("DERMLENS_EMBEDDING_CACHE");
}

ClinicalContext ContextOptions::context() const {
    ClinicalContext context;
    if (!age.empty()) {
        context.age = parse_whole_number(age, "--age", kAgeExpected, ErrorKind::InvalidArgument);
    }
    if (!fitzpatrick.empty()) {
        context.fitzpatrick = parse_whole_number(fitzpatrick, "--fitzpatrick", kFitzpatrickExpected,
                                                 ErrorKind::InvalidArgument);
    }
    context.sex = sex;
    context.site = site;
    context.history = history;
    context.validate();
    return context;
}

void add_context_options(CLI::App & app, ContextOptions & options) {
    app.add_option("--age", options.age, "Clinical context: the patient's age in years (0 to 120)");
    app.add_option("--sex", options.sex, "Clinical context: female, male or other");
    app.add_option("--site", options.site, "Clinical context: body site of the lesion, e.g. \"upper back\"");
    app.add_option("--history", options.history, "Clinical context: history, e.g. \"itching for two months\"");
    app.add_option("--fitzpatrick", options.fitzpatrick, "Clinical context: Fitzpatrick skin type (1 to 6)");
}

std::vector<ImageInput> command_line_inputs(const std::vector<std::string> & images,
                                            const ClinicalContext & context) {
    std::vector<ImageInput> inputs;
    for (const auto & image : images) {
        inputs.push_back({image, image, context, "", std::nullopt, ""});
    }
    return inputs;
}

std::vector<ImageInput> manifest_inputs(const dataset::Manifest & manifest, const ClinicalContext & given) {
    const auto column = [&](const std::string & name, bool given_by_option) -> std::optional<std::size_t> {
        const auto & columns = manifest.metadata_columns;
        const auto found = std::find(columns.begin(), columns.end(), name);
        if (found == columns.end()) {
            return std::nullopt;
        }
        if (given_by_option) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("--{} and the '{}' column of manifest '{}' both give the {}: use one of them", name,
                                    name, manifest.source.string(), name));
        }
        return static_cast<std::size_t>(found - columns.begin());
    };
    const auto age = column("age", given.age.has_value());
    const auto sex = column("sex", !given.sex.empty());
    const auto site = column("site", !given.site.empty());
    const auto history = column("history", !given.history.empty());
    const auto fitzpatrick = column("fitzpatrick", given.fitzpatrick.has_value());
    const auto mask = column("mask", false);
    const auto box = column("box", false);
    const fs::path manifest_folder =
        fs::is_directory(manifest.source) ? manifest.source : manifest.source.parent_path();

    std::vector<ImageInput> inputs;
    for (const auto & row : manifest.rows) {
        const auto cell = [&row](const std::optional<std::size_t> & index) {
            return index ? row.metadata[*index] : std::string();
        };
        const std::string where = manifest.where(row);
        ClinicalContext context = given;
        try {
            if (const std::string value = cell(age); !value.empty()) {
                context.age = parse_whole_number(value, "age", kAgeExpected, ErrorKind::InvalidInput);
            }
            if (const std::string value = cell(fitzpatrick); !value.empty()) {
                context.fitzpatrick = parse_whole_number(value, "fitzpatrick", kFitzpatrickExpected, ErrorKind::InvalidInput);
            }
            if (sex) context.sex = cell(sex);
            if (site) context.site = cell(site);
            if (history) context.history = cell(history);
            context.validate();
        } catch (const Error & e) {
            throw Error(ErrorKind::InvalidInput, fmt::format("{}: {}", where, e.what()));
        }
        ImageInput input{row.image_field, row.image, std::move(context), row.label, std::nullopt, cell(box)};
        if (const std::string file = cell(mask); !file.empty()) {
            input.mask = manifest_folder / file;
        }
        inputs.push_back(std::move(input));
    }
    return inputs;
}

EngineParams engine_params(const std::string & model, const std::string & mmproj, const RuntimeOptions & runtime,
                           const DecisionOptions & decision, const ClassOptions & classes, const std::string & cache,
                           bool capture_attention) {
    EngineParams params;
    params.model = model;
    params.mmproj = mmproj;
    params.probe = decision.probe;
    params.conformal_score = decision.score.value_or("");
    params.per_class_calibration = decision.per_class;
    params.embedding_cache = cache;
    params.kb_overlays.assign(classes.kb_overlays.begin(), classes.kb_overlays.end());
    params.capture_attention = capture_attention;
    runtime.fill(params);
    params.validate();
    return params;
}

namespace {

// The request of the options, checked before anything loads.
DiagnoseRequest checked_request(const RuntimeOptions & runtime, const DecisionOptions & decision,
                                const ClassOptions & classes, const AttentionOptions & attention) {
    classes.validate(!decision.probe.empty());
    runtime.limits();
    DiagnoseRequest request;
    decision.fill(request);
    classes.fill(request);
    attention.fill(request);
    runtime.fill(request);
    request.validate();
    return request;
}

}  // namespace

DiagnoseSession::DiagnoseSession(const std::string & model, const std::string & mmproj, const RuntimeOptions & runtime,
                                 const DecisionOptions & decision, const ClassOptions & classes,
                                 const std::string & cache, const AttentionOptions & attention,
                                 const QualityGateOptions & quality)
    : runtime_(runtime),
      attention_(attention),
      quality_(quality),
      quality_params_(quality.params()),
      request_(checked_request(runtime, decision, classes, attention)),
      engine_(engine_params(model, mmproj, runtime, decision, classes, cache, request_.attention.enabled)) {
    for (const auto & warning : engine_.info().warnings) {
        std::fprintf(stderr, "dermlens: warning: %s\n", warning.c_str());
    }
    engine_.check(request_);
}

ImageReport DiagnoseSession::diagnose(const ImageInput & input, const std::optional<Image> & image) {
    ImageReport report{input, std::nullopt, std::nullopt, std::nullopt};
    try {
        const Image source = image ? *image : Image::from_file(input.path, runtime_.limits(), input.name);
        const QualityGate gate = quality_.gate();
        std::optional<QualityReport> quality = run_quality_gate(source, gate, quality_params_);
        if (refuses(gate, quality)) {
            report.refused = std::move(quality);
            return report;
        }
        DiagnoseRequest request = request_;
        request.context = input.context;
        if (request.attention.enabled) {
            request.lesion.mask_file = input.mask.value_or(fs::path());
            request.lesion.box = input.box;
            if (!attention_.heatmap_dir.empty()) {
                request.attention.heatmap_dir = fs::path(attention_.heatmap_dir) / heatmap_folder_name(input.name);
            }
        }
        report.diagnosis = engine_.diagnose(source, request);
        report.diagnosis->quality = std::move(quality);
    } catch (const Error & e) {
        report.error = e;
    }
    return report;
}

namespace {

json report_json(const ImageReport & report) {
    if (report.diagnosis) return to_json(*report.diagnosis);
    if (report.refused) return refused_to_json(report.input.name, *report.refused);
    return error_json(report.input.name, *report.error);
}

std::string report_text(const ImageReport & report) {
    if (report.diagnosis) return to_text(*report.diagnosis);
    if (report.refused) {
        return fmt::format("{}\n  refused: the image-quality gate rejected it: {}\n", report.input.name,
                           quality_summary(*report.refused));
    }
    return fmt::format("{}\n  error: {}\n", report.input.name, cli_message(*report.error));
}

}  // namespace

json error_json(const std::string & image, const Error & error) {
    return {{"image", {{"path", image}}},
            {"error", {{"kind", error_kind_name(error.kind())}, {"message", cli_message(error)}}}};
}

int diagnose_and_print(DiagnoseSession & session, const std::vector<ImageInput> & inputs,
                       const DiagnoseOne & diagnose_one, bool json_output, const std::string & notice) {
    if (!json_output && !notice.empty()) {
        std::printf("%s\n\n", notice.c_str());
    }
    json array = json::array();
    std::size_t done = 0;
    std::size_t failures = 0;
    std::size_t refused = 0;
    int last_error_code = 0;
    for (const auto & input : inputs) {
        const ImageReport report = diagnose_one(input);
        ++done;
        refused += report.refused.has_value();
        if (report.error) {
            ++failures;
            last_error_code = exit_code(report.error->kind());
            std::fprintf(stderr, "dermlens: error: %s\n", cli_message(*report.error).c_str());
        }
        if (json_output) {
            json object = report_json(report);
            if (!notice.empty()) {
                object["notice"] = notice;
            }
            array.push_back(std::move(object));
        } else {
            std::printf("%s\n", report_text(report).c_str());
            std::fflush(stdout);
        }
        if (report.error && stops_batch(*report.error)) {
            break;
        }
    }
    if (json_output) {
        // Generated text can end inside a UTF-8 sequence (the token budget ran out): shown as U+FFFD.
        std::printf("%s\n", array.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    }
    const EngineInfo info = session.engine().info();
    std::fprintf(stderr,
                 "diagnose: %zu images: %zu encoded, %zu from the embedding cache, %zu failed, %zu refused by the "
                 "quality gate\n",
                 inputs.size(), info.encoder_runs, info.cache_hits, failures, refused);
    if (failures == 0) {
        return 0;
    }
    return inputs.size() == 1 || done < inputs.size() ? last_error_code : 1;
}

}  // namespace dermlens::cli
