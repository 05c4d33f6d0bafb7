#include "diagnose_flow.h"

#include "common/hash.h"
#include "grounding/lesion_mask.h"
#include "image/image.h"
#include "pipeline/direct.h"
#include "pipeline/rerank_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
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

json file_json(const FileDigest & file) {
    return {{"path", file.path.string()}, {"sha256", file.sha256}};
}

std::vector<fs::path> kb_folders(const std::vector<std::string> & overlays) {
    std::vector<fs::path> dirs{kb::KnowledgeBase::shipped_dir()};
    for (const auto & dir : overlays) {
        if (!fs::is_directory(dir)) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("--kb '{}': no such folder", dir));
        }
        dirs.emplace_back(dir);
    }
    return dirs;
}

}  // namespace

std::string heatmap_folder_name(const std::string & image_name) {
    const fs::path given(image_name);
    fs::path kept = given.is_absolute() ? given.filename() : given;
    std::string name = kept.replace_extension().string();
    std::replace_if(name.begin(), name.end(), [](char c) { return c == '/' || c == '\\' || c == ':'; }, '_');
    return name.empty() ? "image" : name;
}

std::uint64_t image_seed(const std::string & sha256) {
    std::uint64_t seed = 0;
    std::from_chars(sha256.data(), sha256.data() + std::min<std::size_t>(16, sha256.size()), seed, 16);
    return seed;
}

model::VlmParams RuntimeOptions::vlm_params(const std::filesystem::path & model,
                                            const std::filesystem::path & mmproj) const {
    if (!(max_megapixels > 0)) {
        throw Error(ErrorKind::InvalidArgument, "--max-megapixels must be positive");
    }
    model::VlmParams params;
    params.model_path = model;
    params.mmproj_path = mmproj;
    params.threads = threads;
    params.context_size = context_size;
    params.batch_size = batch_size;
    params.max_tokens = max_tokens;
    params.seed = seed;
    params.text_flash_attention = model::parse_flash_attention(flash_attention);
    params.vision_flash_attention = model::parse_flash_attention(vision_flash_attention);
    params.verbose = verbose;
    params.validate();
    return params;
}

void add_runtime_options(CLI::App & app, RuntimeOptions & options) {
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
    app.add_option("--flash-attn", options.flash_attention, "Flash attention in the text model: on, off or auto")
        ->capture_default_str()
        ->envname("DERMLENS_FLASH_ATTN");
    app.add_option("--vision-flash-attn", options.vision_flash_attention,
                   "Flash attention in the vision encoder: on, off or auto (off: much faster on CPU)")
        ->capture_default_str()
        ->envname("DERMLENS_VISION_FLASH_ATTN");
    app.add_option("--max-megapixels", options.max_megapixels, "Refuse images larger than this many megapixels")
        ->capture_default_str()
        ->envname("DERMLENS_MAX_MEGAPIXELS");
    app.add_flag("--json", options.json, "Print JSON (docs/diagnose-json.md) instead of text");
    app.add_flag("--verbose", options.verbose, "Show llama.cpp's and libmtmd's logs on stderr");
}

std::optional<grounding::AttentionReduction> AttentionOptions::reduction() const {
    if (!requested()) {
        return std::nullopt;
    }
    grounding::AttentionReduction reduction;
    reduction.reduction = grounding::parse_head_reduction(reduce);
    if (!layers.empty()) {
        const auto colon = layers.find(':');
        const auto layer = [&](const std::string & text) {
            return parse_whole_number(text, "attention-layers", "FIRST:LAST, e.g. 0:33", ErrorKind::InvalidArgument);
        };
        if (colon == std::string::npos) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("--attention-layers must be FIRST:LAST, e.g. 0:33 (got '{}')", layers));
        }
        reduction.first_layer = layer(layers.substr(0, colon));
        reduction.last_layer = layer(layers.substr(colon + 1));
    }
    reduction.validate();
    return reduction;
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

pipeline::RerankParams DecisionOptions::params(const RuntimeOptions & runtime) const {
    pipeline::RerankParams p;
    p.strategy = pipeline::parse_strategy(strategy);
    p.style = pipeline::parse_style(style);
    p.schema = pipeline::parse_schema(schema);
    p.decide = pipeline::parse_decide_mode(decide);
    p.candidates.mode = probe::parse_candidate_mode(candidates);
    p.candidates.top_k = top_k;
    if (alpha) {
        if (p.candidates.mode != probe::CandidateMode::Conformal) {
            throw Error(ErrorKind::InvalidArgument, "--alpha only applies with --candidates conformal");
        }
        p.candidates.set.alpha = alpha;
    }
    if ((score || per_class) && p.candidates.mode != probe::CandidateMode::Conformal) {
        throw Error(ErrorKind::InvalidArgument, "--score and --per-class only apply with --candidates conformal");
    }
    p.abstention.not_sure_option = not_sure;
    p.abstention.threshold = abstain_below;
    p.shuffle_options = shuffle_options;
    p.seed = runtime.seed;
    p.temperature = runtime.temperature;
    p.answer_tokens = runtime.max_tokens;
    if (pipeline::strategy_parts(p.strategy).probe_candidates && probe.empty()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("--strategy {} takes its candidates from a probe: give --probe P.probe", strategy));
    }
    p.validate();
    return p;
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

std::optional<probe::Probe> ClassOptions::load_probe(const std::string & probe_path) const {
    validate(!probe_path.empty());
    if (probe_path.empty()) {
        return std::nullopt;
    }
    probe::Probe probe = probe::load_probe(probe_path);
    if (!label_set.empty()) {
        probe::check_label_set(probe, probe_path, label_set);
    }
    return probe;
}

kb::KnowledgeBase ClassOptions::load_kb() const {
    return kb::KnowledgeBase::load(kb_folders(kb_overlays));
}

std::vector<std::string> ClassOptions::label_list(const kb::KnowledgeBase & kb) const {
    if (!labels.empty()) {
        return pipeline::parse_label_list(labels);
    }
    std::vector<std::string> out;
    for (const auto & label : kb.label_set(label_set).labels) {
        out.push_back(label.label);
    }
    return out;
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

pipeline::ClinicalContext ContextOptions::context() const {
    pipeline::ClinicalContext context;
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
                                            const pipeline::ClinicalContext & context) {
    std::vector<ImageInput> inputs;
    for (const auto & image : images) {
        inputs.push_back({image, image, context, "", std::nullopt, ""});
    }
    return inputs;
}

std::vector<ImageInput> manifest_inputs(const eval::Manifest & manifest, const pipeline::ClinicalContext & given) {
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
        pipeline::ClinicalContext context = given;
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

PipelineSession::PipelineSession(const std::string & model, const std::string & mmproj, const RuntimeOptions & runtime,
                                 const DecisionOptions & decision, const ClassOptions & classes,
                                 const std::string & cache, const AttentionOptions & attention)
    : runtime_(runtime), attention_(attention), params_(decision.params(runtime)), kb_(classes.load_kb()) {
    // Everything that can be checked without the model is checked first: loading a real model takes seconds.
    params_.attention = attention.reduction();
    model::VlmParams vlm_params = runtime.vlm_params(model, mmproj);
    vlm_params.capture_attention = params_.attention.has_value();
    vlm_params.validate();
    probe_ = classes.load_probe(decision.probe);
    if (probe_ && (decision.score || decision.per_class)) {
        probe::recalibrate_probe(*probe_, decision.probe, decision.score, decision.per_class);
        if (const std::string warning = probe::undercalibrated_warning(*probe_, params_.candidates.set.alpha.value_or(
                                                                                    probe_->calibration->alpha));
            !warning.empty()) {
            std::fprintf(stderr, "dermlens: warning: %s\n", warning.c_str());
        }
    }
    const std::vector<std::string> labels = probe_ ? probe_->classes : classes.label_list(kb_);
    if (!cache.empty()) {
        cache_ = std::make_unique<vision::EmbeddingCache>(cache);
    }
    vlm_ = std::make_unique<model::Vlm>(vlm_params);
    identity_ = vision::encoder_identity(mmproj, probe_ ? probe_->encoder.kind : vision::FeatureKind::EncoderMean);
    model_ = {model, sha256_file(model)};
    mmproj_ = {mmproj, identity_.mmproj_sha256};
    if (probe_ && probe_->fusion && probe_->fusion->model_sha256 != model_.sha256) {
        std::fprintf(stderr, "dermlens: warning: the probe's fusion weight was tuned with another model (sha256 %s)\n",
                     probe_->fusion->model_sha256.c_str());
    }
    reranker_ = std::make_unique<pipeline::Reranker>(*vlm_, kb_, params_, labels,
                                                     probe_ ? probe_->label_set : classes.label_set, probe(), &identity_);
}

PipelineSession::~PipelineSession() = default;

std::size_t PipelineSession::encoded() const noexcept {
    return vlm_->encoder_runs();
}

// The image and its mask are read before the model runs, so that a bad mask costs no diagnosis.
ImageReport PipelineSession::run(const ImageInput & input,
                                 const std::function<model::ImageEncoding(ImageReport &)> & encode,
                                 const std::function<cv::Mat3b()> & pixels) {
    ImageReport report{input, "", 0, 0, false, std::nullopt, std::nullopt, std::nullopt};
    try {
        cv::Mat3b rgb;
        std::optional<grounding::LesionMask> mask;
        if (params_.attention) {
            rgb = pixels();
            if (input.mask || !input.box.empty()) {
                mask = grounding::lesion_mask(
                    rgb, {input.mask, input.box.empty() ? std::nullopt : std::optional<std::string>(input.box), {}});
            }
        }
        const model::ImageEncoding encoding = encode(report);
        report.result = reranker_->diagnose(encoding, input.context, image_seed(report.sha256));
        if (report.result->attention) {
            report.grounding = ground(input, *report.result->attention, rgb, mask);
        }
    } catch (const Error & e) {
        report.error = e;
    }
    return report;
}

pipeline::GroundingReport PipelineSession::ground(const ImageInput & input, const pipeline::AttentionEvidence & evidence,
                                                  const cv::Mat3b & rgb,
                                                  const std::optional<grounding::LesionMask> & mask) const {
    pipeline::GroundingReport out = pipeline::grounding_report(evidence, mask ? &*mask : nullptr);
    if (!attention_.heatmap_dir.empty()) {
        pipeline::write_heatmaps(evidence, rgb, fs::path(attention_.heatmap_dir) / heatmap_folder_name(input.name), out);
    }
    return out;
}

ImageReport PipelineSession::diagnose(const ImageInput & input) {
    std::optional<image::RgbImage> decoded;
    const auto decode = [&]() -> const image::RgbImage & {
        if (!decoded) {
            decoded = image::load_image(input.path,
                                        image::DecodeLimits{static_cast<std::uint64_t>(runtime_.max_megapixels * 1e6)});
        }
        return *decoded;
    };
    const auto pixels = [&] {
        if (!fs::is_regular_file(input.path)) {
            throw Error(ErrorKind::InvalidInput, fmt::format("image '{}': no such file", input.path.string()));
        }
        return grounding::to_rgb_mat(decode());
    };
    return run(input, [&](ImageReport & report) {
        if (!fs::is_regular_file(input.path)) {  // before hashing, whose message would not say it is the image
            throw Error(ErrorKind::InvalidInput, fmt::format("image '{}': no such file", input.path.string()));
        }
        report.sha256 = sha256_file(input.path);
        if (cache_) {
            if (std::optional<model::ImageEncoding> cached = cache_->get(report.sha256, identity_)) {
                report.from_cache = true;
                report.width = cached->image_width;
                report.height = cached->image_height;
                ++from_cache_;
                cached->encode_ms = 0;  // nothing was encoded for this run
                return std::move(*cached);
            }
        }
        const image::RgbImage & rgb = decode();
        report.width = rgb.width;
        report.height = rgb.height;
        model::ImageEncoding encoding = vlm_->encode({rgb.width, rgb.height, rgb.rgb.data()});
        if (cache_) {
            cache_->put(report.sha256, identity_, encoding);
        }
        return encoding;
    }, pixels);
}

ImageReport PipelineSession::diagnose_pixels(const ImageInput & input, const std::string & sha256,
                                             const model::ImageView & image) {
    return run(input, [&](ImageReport & report) {
        report.sha256 = sha256;
        report.width = image.width;
        report.height = image.height;
        return vlm_->encode(image);
    }, [&] {
        cv::Mat3b rgb(image.height, image.width);
        std::memcpy(rgb.data, image.rgb, static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) * 3);
        return rgb;
    });
}

json PipelineSession::to_json(const ImageReport & report) const {
    if (!report.result) {
        return {{"image", {{"path", report.input.name}}},
                {"error", {{"kind", error_kind_name(report.error->kind())}, {"message", report.error->what()}}}};
    }
    json out = {{"image",
                 {{"path", report.input.name},
                  {"sha256", report.sha256},
                  {"width", report.width},
                  {"height", report.height},
                  {"encoding", report.from_cache ? "cache" : "encoder"}}},
                {"model", file_json(model_)},
                {"mmproj", file_json(mmproj_)}};
    out.update(pipeline::to_json(*report.result));
    if (report.grounding) {
        out["grounding"] = pipeline::to_json(*report.grounding);
    }
    out["settings"] = {{"threads", runtime_.threads},
                       {"context_size", runtime_.context_size},
                       {"batch_size", runtime_.batch_size},
                       {"max_tokens", runtime_.max_tokens},
                       {"seed", runtime_.seed},
                       {"flash_attention", runtime_.flash_attention},
                       {"vision_flash_attention", runtime_.vision_flash_attention},
                       {"top_k", params_.candidates.top_k},
                       {"alpha", params_.candidates.set.alpha ? json(*params_.candidates.set.alpha) : json(nullptr)},
                       {"not_sure_option", params_.abstention.not_sure_option},
                       {"abstain_below", params_.abstention.threshold},
                       {"shuffle_options", params_.shuffle_options}};
    return out;
}

std::string PipelineSession::to_text(const ImageReport & report) const {
    if (!report.result) {
        return fmt::format("{}\n  error: {}\n", report.input.name, report.error->what());
    }
    return fmt::format("{} ({}x{}, {})\n{}{}", report.input.name, report.width, report.height,
                       report.from_cache ? "encoding from the cache" : "encoded", pipeline::to_text(*report.result),
                       report.grounding ? pipeline::to_text(*report.grounding) : "");
}

int diagnose_and_print(PipelineSession & session, const std::vector<ImageInput> & inputs,
                       const DiagnoseOne & diagnose_one, bool json_output, const std::string & notice) {
    if (!json_output && !notice.empty()) {
        std::printf("%s\n\n", notice.c_str());
    }
    json array = json::array();
    std::size_t failures = 0;
    int last_error_code = 0;
    for (const auto & input : inputs) {
        const ImageReport report = diagnose_one(input);
        if (report.error) {
            ++failures;
            last_error_code = report.error->exit_code();
            std::fprintf(stderr, "dermlens: error: %s\n", report.error->what());
        }
        if (json_output) {
            json object = session.to_json(report);
            if (!notice.empty()) {
                object["notice"] = notice;
            }
            array.push_back(std::move(object));
        } else {
            std::printf("%s\n", session.to_text(report).c_str());
            std::fflush(stdout);
        }
    }
    if (json_output) {
        // Generated text can end inside a UTF-8 sequence (the token budget ran out): shown as U+FFFD.
        std::printf("%s\n", array.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    }
    std::fprintf(stderr, "diagnose: %zu images: %zu encoded, %zu from the embedding cache, %zu failed\n", inputs.size(),
                 session.encoded(), session.from_cache(), failures);
    if (failures == 0) {
        return 0;
    }
    return inputs.size() == 1 ? last_error_code : 1;
}

}  // namespace dermlens::cli
