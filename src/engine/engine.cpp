// dermlens::Engine (dermlens/engine.h): the session every front end shares — the knowledge
// base, the probe, the model pair, the encoder identity and the model's hash, and the
// embedding cache, loaded once; per call, the cache-through encoding, the lesion mask, the
// re-ranking (src/pipeline/rerank.h), the grounding report and its heat maps.
#include "dermlens/engine.h"

#include "common/data_dir.h"
#include "common/file_hash_cache.h"
#include "engine/attention_paths.h"
#include "engine/boundary.h"
#include "engine/details.h"
#include "engine/generate.h"
#include "engine/internals.h"
#include "engine/request.h"
#include "engine/session_pool.h"
#include "engine/shared_encodes.h"
#include "grounding/lesion_mask.h"
#include "image/image.h"
#include "model/gguf_check.h"
#include "probe/candidates.h"
#include "probe/probe.h"
#include "vision/embedding_cache.h"
#include "vision/encoder_identity.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <thread>

namespace dermlens {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> kb_folders(const EngineParams & params) {
    std::vector<fs::path> dirs{kb::KnowledgeBase::shipped_dir()};
    for (const auto & dir : params.kb_overlays) {
        if (!fs::is_directory(dir)) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("kb_overlays '{}': no such folder", dir.string()),
                        "kb_overlays");
        }
        dirs.push_back(dir);
    }
    return dirs;
}

int resolved_threads(int threads) {
    return threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

model::VlmParams vlm_params(const EngineParams & params) {
    model::VlmParams out;
    out.model_path = params.model;
    out.mmproj_path = params.mmproj;
    out.threads = resolved_threads(params.threads);  // shared by the sessions (model/thread_share.h)
    out.context_size = params.context_size;
    out.batch_size = params.batch_size;
    out.text_flash_attention = params.flash_attention;
    out.vision_flash_attention = params.vision_flash_attention;
    out.capture_attention = params.capture_attention;
    out.reuse_prefix = params.reuse_prefix;
    out.log = params.log;
    out.validate();
    return out;
}

// The first 16 hex digits of the image's SHA-256: seeds the shuffled option order per image.
std::uint64_t image_seed(const std::string & sha256) {
    std::uint64_t seed = 0;
    std::from_chars(sha256.data(), sha256.data() + std::min<std::size_t>(16, sha256.size()), seed, 16);
    return seed;
}

// Sets the model's keep-going check (progress and cancellation) for one call, and clears it
// however the call ends.
class CallHooks {
public:
    CallHooks(model::Vlm & vlm, const ProgressCallback & progress, const ShouldStopCallback & should_stop) : vlm_(vlm) {
        if (!progress && !should_stop) {
            return;
        }
        vlm_.set_keep_going([&progress, &should_stop](int generated, int max_tokens) {
            if (progress) {
                progress("generate", generated, max_tokens);
            }
            return !(should_stop && should_stop());
        });
    }
    ~CallHooks() { vlm_.set_keep_going({}); }
    CallHooks(const CallHooks &) = delete;
    CallHooks & operator=(const CallHooks &) = delete;

private:
    model::Vlm & vlm_;
};

void check_not_stopped(const ShouldStopCallback & should_stop, const char * before) {
    if (should_stop && should_stop()) {
        throw Error(ErrorKind::Cancelled, fmt::format("cancelled before {}", before));
    }
}

cv::Mat3b pixels_of(const Image & image) {
    const auto rgb = image.rgb();
    cv::Mat3b out(image.height(), image.width());
    std::copy(rgb.begin(), rgb.end(), out.ptr<std::uint8_t>());
    return out;
}

std::vector<AttentionMap> attention_maps(const pipeline::AttentionEvidence & evidence) {
    std::vector<AttentionMap> maps;
    const auto map = [&](const char * name, const std::vector<float> & values) {
        maps.push_back({name, evidence.layout.grid_rows, evidence.layout.grid_columns, values});
    };
    if (evidence.label_map) {
        map("label", *evidence.label_map);
    }
    map("all", evidence.all_map);
    return maps;
}

}  // namespace

void EngineParams::validate() const {
    if (model.empty()) {
        throw Error(ErrorKind::InvalidArgument, "model: a GGUF text model is required", "model");
    }
    if (mmproj.empty()) {  // a text-only Engine: nothing that reads images
        const auto needs_mmproj = [](bool set, const char * field) {
            if (set) {
                throw Error(ErrorKind::InvalidArgument,
                            fmt::format("{}: needs the model's vision projector (mmproj)", field), field);
            }
        };
        needs_mmproj(!probe.empty(), "probe");
        needs_mmproj(!embedding_cache.empty(), "embedding_cache");
        needs_mmproj(capture_attention, "capture_attention");
    }
    if (threads < 0) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("threads {}: must be 0 (every core) or more", threads), "threads");
    }
    if (parallel < 1) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("parallel {}: must be 1 or more", parallel), "parallel");
    }
    if (context_size < 1) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("context_size {}: must be 1 or more", context_size),
                    "context_size");
    }
    if (batch_size < 1) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("batch_size {}: must be 1 or more", batch_size), "batch_size");
    }
    if (capture_attention && flash_attention == FlashAttention::On) {
        throw Error(ErrorKind::InvalidArgument,
                    "flash_attention: attention capture needs the text model's flash attention off (it computes no "
                    "attention probabilities): off or auto",
                    "flash_attention");
    }
}

bool stops_batch(const Error & error) noexcept {
    return error.kind() == ErrorKind::InvalidArgument || error.kind() == ErrorKind::InvalidModel ||
           error.kind() == ErrorKind::Cancelled;
}

std::span<const float> EncodedImage::encoder_mean() const {
    return data->encoding.encoder_mean;
}

std::span<const float> EncodedImage::projected_mean() const {
    return data->encoding.projected_mean;
}

int EncodedImage::image_tokens() const {
    return data->encoding.n_tokens;
}

double EncodedImage::encode_ms() const {
    return data->encoding.encode_ms;
}

struct Engine::Impl {
    EngineParams params;
    kb::KnowledgeBase kb;
    std::optional<probe::Probe> probe;
    std::unique_ptr<vision::EmbeddingCache> cache;
    std::unique_ptr<engine::SessionPool> sessions;
    engine::SharedEncodes encodes;  // concurrent calls for one image share its encoding
    std::mutex cache_access;        // the embedding cache's SQLite connection, one call at a time
    vision::EncoderIdentity identity;
    FileInfo model;
    FileInfo mmproj;
    AttentionPaths attention;  // the paths that run: `auto` resolved by measurement
    std::atomic<std::size_t> cache_hits{0};
    std::vector<std::string> warnings;

    // Everything that can be checked without the model is checked first: loading a real model takes seconds.
    explicit Impl(EngineParams p) : params(std::move(p)) {
        params.validate();
        if (!params.data_dir.empty()) {
            set_data_dir(params.data_dir);
        }
        model::VlmParams model_params = vlm_params(params);
        kb = kb::KnowledgeBase::load(kb_folders(params));
        if (!params.probe.empty()) {
            probe = probe::load_probe(params.probe);
            recalibrate();
        }
        if (!params.embedding_cache.empty()) {
            cache = std::make_unique<vision::EmbeddingCache>(params.embedding_cache);
        }
        // The files are checked before they are hashed, so that a bad one is named as the Vlm names it.
        if (params.mmproj.empty()) {
            model::check_text_model(params.model);
        } else {
            model::check_model_pair(params.model, params.mmproj);
        }
        model = {params.model, sha256_model_file(params.model)};
        if (!params.mmproj.empty()) {
            identity =
                vision::encoder_identity(params.mmproj, probe ? probe->encoder.kind : vision::FeatureKind::EncoderMean);
            mmproj = {params.mmproj, identity.mmproj_sha256};
        }
        attention = resolve_attention_paths(params, model_params.threads, model.sha256, mmproj.sha256);
        model_params.text_flash_attention = attention.text.ran;
        model_params.vision_flash_attention = attention.vision.ran;
        sessions = std::make_unique<engine::SessionPool>(model_params, params.parallel);
        if (probe && probe->fusion && probe->fusion->model_sha256 != model.sha256) {
            warnings.push_back(fmt::format("the probe's fusion weight was tuned with another model (sha256 {})",
                                           probe->fusion->model_sha256));
        }
    }

    void recalibrate() {
        if (params.conformal_score.empty() && !params.per_class_calibration) {
            return;
        }
        const std::optional<std::string> score =
            params.conformal_score.empty() ? std::nullopt : std::optional<std::string>(params.conformal_score);
        probe::recalibrate_probe(*probe, params.probe.string(), score, params.per_class_calibration);
        if (const std::string warning = probe::undercalibrated_warning(*probe, probe->calibration->alpha);
            !warning.empty()) {
            warnings.push_back(warning);
        }
    }

    void require_vision() const {
        if (!sessions->first().has_vision()) {
            throw Error(ErrorKind::InvalidArgument,
                        "mmproj: this Engine was loaded without a vision projector, so it reads no images", "mmproj");
        }
    }

    EncodedImage encode(const Image & image, const ShouldStopCallback & should_stop) {
        require_vision();
        auto data = std::make_shared<EncodedImage::Data>();
        data->source = image;
        bool from_cache = false;
        bool joined = false;
        data->encoding = encodes.get(
            image.sha256(), [&] { return encoding_of(image, should_stop, from_cache); }, should_stop, joined);
        if (from_cache || joined) {
            ++cache_hits;
            data->encoding.encode_ms = 0;  // nothing was encoded for this call
        }
        EncodedImage out;
        out.image = {image.name(), image.sha256(), data->encoding.image_width, data->encoding.image_height,
                     from_cache || joined};
        out.data = std::move(data);
        return out;
    }

    // The embedding cache's encoding of `image`, else the encoder's (then stored in the cache).
    model::ImageEncoding encoding_of(const Image & image, const ShouldStopCallback & should_stop, bool & from_cache) {
        if (cache) {
            const std::lock_guard lock(cache_access);
            if (std::optional<model::ImageEncoding> cached = cache->get(image.sha256(), identity)) {
                from_cache = true;
                return std::move(*cached);
            }
        }
        const auto rgb = image.rgb();  // decodes: refusals name the image
        check_not_stopped(should_stop, "encoding the image");
        model::ImageEncoding encoding = sessions->first().encode({image.width(), image.height(), rgb.data()});
        if (cache) {
            const std::lock_guard lock(cache_access);
            cache->put(image.sha256(), identity, encoding);
        }
        return encoding;
    }

    std::vector<std::string> labels_of(const DiagnoseRequest & request) const {
        if (probe) {
            if (!request.labels.empty()) {
                throw Error(ErrorKind::InvalidArgument, "labels: with a probe the probe's classes are the labels",
                            "labels");
            }
            if (!request.label_set.empty()) {
                probe::check_label_set(*probe, params.probe.string(), request.label_set);
            }
            return probe->classes;
        }
        if (!request.labels.empty()) {
            return request.labels;
        }
        if (request.label_set.empty()) {
            throw Error(ErrorKind::InvalidArgument,
                        "labels: give the classes to choose among: labels, a label set, or a probe", "labels");
        }
        std::vector<std::string> out;
        for (const auto & label : kb.label_set(request.label_set).labels) {
            out.push_back(label.label);
        }
        return out;
    }

    pipeline::RerankParams checked(const DiagnoseRequest & request) const {
        require_vision();
        pipeline::RerankParams p = engine::rerank_params(request);
        if (p.attention && !params.capture_attention) {
            throw Error(ErrorKind::InvalidArgument,
                        "attention: maps need an Engine loaded with capture_attention", "attention");
        }
        return p;
    }

    // The lesion's mask, read before the model runs so that a bad mask costs no diagnosis.
    std::optional<grounding::LesionMask> lesion_mask(const Image & image, const DiagnoseRequest & request) const {
        if (request.lesion.mask_file.empty() && request.lesion.box.empty()) {
            return std::nullopt;
        }
        grounding::MaskSpec spec;
        if (!request.lesion.mask_file.empty()) {
            spec.file = request.lesion.mask_file;
        }
        if (!request.lesion.box.empty()) {
            spec.box = request.lesion.box;
        }
        return grounding::lesion_mask(pixels_of(image), spec);
    }

    nlohmann::ordered_json settings(const DiagnoseRequest & request, const pipeline::RerankParams & p) const {
        return {{"threads", resolved_threads(params.threads)},
                {"context_size", params.context_size},
                {"batch_size", params.batch_size},
                {"max_tokens", request.max_tokens},
                {"seed", request.seed},
                {"flash_attention", flash_attention_name(params.flash_attention)},
                {"vision_flash_attention", flash_attention_name(params.vision_flash_attention)},
                {"flash_attention_ran", flash_attention_name(attention.text.ran)},
                {"flash_attention_why", attention.text.why},
                {"vision_flash_attention_ran", flash_attention_name(attention.vision.ran)},
                {"vision_flash_attention_why", attention.vision.why},
                {"top_k", p.candidates.top_k},
                {"alpha", p.candidates.set.alpha ? nlohmann::ordered_json(*p.candidates.set.alpha) : nullptr},
                {"not_sure_option", p.abstention.not_sure_option},
                {"abstain_below", p.abstention.threshold},
                {"shuffle_options", p.shuffle_options},
                {"temperature", request.temperature}};
    }

    // The re-ranker of `request`: built before anything runs, so that a label the knowledge
    // base does not know or a probe of another encoder costs no encoding.
    std::unique_ptr<pipeline::Reranker> reranker(model::Vlm & vlm, const DiagnoseRequest & request,
                                                 const pipeline::RerankParams & p) const {
        return std::make_unique<pipeline::Reranker>(vlm, kb, p, labels_of(request),
                                                    probe ? probe->label_set : request.label_set,
                                                    probe ? &*probe : nullptr, &identity);
    }

    Diagnosis diagnose(model::Vlm & vlm, const EncodedImage & encoded, const DiagnoseRequest & request,
                       const pipeline::RerankParams & p, pipeline::Reranker & reranker,
                       const std::optional<grounding::LesionMask> & mask) {
        if (request.progress) {
            request.progress("decide", 0, 0);
        }
        auto details = std::make_shared<Diagnosis::Details>();
        {
            const CallHooks hooks(vlm, request.progress, request.should_stop);
            details->result = reranker.diagnose(encoded.data->encoding, request.context, image_seed(encoded.image.sha256));
        }
        const pipeline::RerankResult & result = details->result;
        Diagnosis out;
        if (result.attention) {
            details->grounding = pipeline::grounding_report(*result.attention, mask ? &*mask : nullptr);
            if (!request.attention.heatmap_dir.empty()) {
                if (!encoded.data->source) {
                    throw Error(ErrorKind::InvalidArgument,
                                "attention.heatmap_dir: heat maps need the image's pixels, which a stored encoding lacks",
                                "attention.heatmap_dir");
                }
                pipeline::write_heatmaps(*result.attention, pixels_of(*encoded.data->source), request.attention.heatmap_dir,
                                         *details->grounding);
            }
            out.attention = attention_maps(*result.attention);
        }
        details->model = model;
        details->mmproj = mmproj;
        details->settings = settings(request, p);
        out.image = encoded.image;
        out.candidates = result.candidates;
        out.differential = result.differential;
        out.final = result.final;
        out.abstained = result.abstained;
        out.abstain_reason = result.abstain_reason;
        out.not_sure_probability = result.not_sure_probability;
        out.description = result.description_text;
        out.answer = result.answer_text;
        out.context = result.context;
        out.timings = result.timings;
        out.timings.encode_ms = encoded.encode_ms();
        out.details = std::move(details);
        return out;
    }

    GeneratedText generate(model::Vlm & vlm, const GenerateRequest & request) {
        request.validate();
        if (!request.image) {
            const CallHooks hooks(vlm, request.progress, request.should_stop);
            return engine::generated_text(
                vlm.generate_text(engine::chat_prompt(request, ""), engine::decode_params(request)), 0);
        }
        if (request.progress) {
            request.progress("encode", 0, 0);
        }
        const EncodedImage encoded = encode(*request.image, request.should_stop);
        const model::ImageEncoding & encoding = encoded.data->encoding;
        model::Generation generation;
        {
            const CallHooks hooks(vlm, request.progress, request.should_stop);
            generation = vlm.generate(encoding, engine::chat_prompt(request, model::Vlm::image_marker()),
                                       engine::decode_params(request));
        }
        GeneratedText out = engine::generated_text(generation, encoding.n_tokens);
        out.image_from_cache = encoded.image.from_cache;
        out.encode_ms = encoded.encode_ms();
        out.total_ms += out.encode_ms;
        return out;
    }
};

Engine::Engine(EngineParams params) : impl_(std::make_unique<Impl>(std::move(params))) {}

Engine::~Engine() = default;

EncodedImage Engine::encode(const Image & image, const ShouldStopCallback & should_stop) {
    return engine::at_boundary(engine::image_subject(image.name()), [&] { return impl_->encode(image, should_stop); });
}

// A diagnosis holds a session from its checks to its report; the checks come first, so that a
// bad request costs no encoding.
Diagnosis Engine::diagnose(const Image & image, const DiagnoseRequest & request) {
    return engine::at_boundary(engine::image_subject(image.name()), [&] {
        const engine::SessionPool::Lease session = impl_->sessions->borrow(image.sha256());
        const pipeline::RerankParams p = impl_->checked(request);
        const auto reranker = impl_->reranker(session.vlm(), request, p);
        const std::optional<grounding::LesionMask> mask = p.attention ? impl_->lesion_mask(image, request) : std::nullopt;
        if (request.progress) {
            request.progress("encode", 0, 0);
        }
        const EncodedImage encoded = impl_->encode(image, request.should_stop);
        return impl_->diagnose(session.vlm(), encoded, request, p, *reranker, mask);
    });
}

Diagnosis Engine::diagnose(const EncodedImage & encoded, const DiagnoseRequest & request) {
    return engine::at_boundary(engine::image_subject(encoded.image.name), [&] {
        const engine::SessionPool::Lease session = impl_->sessions->borrow(encoded.image.sha256);
        const pipeline::RerankParams p = impl_->checked(request);
        const auto reranker = impl_->reranker(session.vlm(), request, p);
        const std::optional<grounding::LesionMask> mask =
            p.attention && encoded.data->source ? impl_->lesion_mask(*encoded.data->source, request) : std::nullopt;
        return impl_->diagnose(session.vlm(), encoded, request, p, *reranker, mask);
    });
}

GeneratedText Engine::generate(const GenerateRequest & request) {
    const std::string subject = request.image ? engine::image_subject(request.image->name()) : "generation";
    return engine::at_boundary(subject, [&] {
        const engine::SessionPool::Lease session = impl_->sessions->borrow(request.image ? request.image->sha256() : "");
        return impl_->generate(session.vlm(), request);
    });
}

bool Engine::has_vision() const noexcept {
    return impl_->sessions->first().has_vision();
}

// The reranker is built for its checks and never run, so no session is borrowed.
void Engine::check(const DiagnoseRequest & request) const {
    impl_->reranker(impl_->sessions->first(), request, impl_->checked(request));
}

const kb::KnowledgeBase & Engine::kb() const noexcept {
    return impl_->kb;
}

EngineInfo Engine::info() const {
    const Impl & s = *impl_;
    EngineInfo out;
    out.model = s.model;
    out.mmproj = s.mmproj;
    if (s.probe) {
        out.probe = ProbeInfo{s.params.probe, s.probe->classes, s.probe->label_set,
                              vision::feature_kind_name(s.probe->encoder.kind),
                              s.probe->fusion ? std::optional<double>(s.probe->fusion->weight) : std::nullopt};
    }
    out.embedding_cache = s.cache ? s.cache->path() : fs::path();
    out.data_dir = data_dir();
    out.threads = resolved_threads(s.params.threads);
    out.parallel = s.params.parallel;
    out.busy_sessions = s.sessions->busy();
    out.context_size = s.params.context_size;
    out.batch_size = s.params.batch_size;
    out.flash_attention = s.params.flash_attention;
    out.vision_flash_attention = s.params.vision_flash_attention;
    out.flash_attention_ran = s.attention.text.ran;
    out.vision_flash_attention_ran = s.attention.vision.ran;
    out.flash_attention_why = s.attention.text.why;
    out.vision_flash_attention_why = s.attention.vision.why;
    out.capture_attention = s.params.capture_attention;
    out.encoder_runs = s.sessions->first().encoder_runs();
    out.cache_hits = s.cache_hits;
    out.warnings = s.warnings;
    return out;
}

model::Vlm & EngineInternals::vlm(Engine & engine) {
    return engine.impl_->sessions->first();
}

const model::ImageEncoding & EngineInternals::encoding(const EncodedImage & encoded) {
    return encoded.data->encoding;
}

}  // namespace dermlens
