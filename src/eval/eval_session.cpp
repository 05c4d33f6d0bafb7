#include "eval/eval_session.h"

#include "engine/internals.h"

#include "common/hash.h"
#include "dermlens/error.h"
#include "image/image.h"
#include "metrics/text_metrics.h"
#include "probe/train.h"
#include "vision/feature_table.h"

#include <fmt/format.h>

#include <algorithm>

namespace dermlens::eval {

void EvalParams::validate() const {
    if (protocol.empty()) {
        throw Error(ErrorKind::InvalidArgument, "protocol is required", "protocol");
    }
    if (label_set.empty() && !is_vqa()) {
        throw Error(ErrorKind::InvalidArgument, "label_set is required: the knowledge base's classes of the dataset",
                    "label_set");
    }
    if (seeds == 0 || seeds > 100) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("seeds {}: must be 1 to 100", seeds), "seeds");
    }
    if (shots == 0) {
        throw Error(ErrorKind::InvalidArgument, "shots 0: the re-ranking probe needs 1 or more images per class", "shots");
    }
    if (shot_counts.empty() || std::count(shot_counts.begin(), shot_counts.end(), 0u) > 0) {
        throw Error(ErrorKind::InvalidArgument, "shot_counts: give 1 or more counts, each 1 or more", "shot_counts");
    }
    pipeline::parse_strategy(strategy);  // names the choices when unknown
    metrics::parse_rouge_variant(rouge);
    probe::parse_conformal_score(conformal_score);
    if (top_k < 2) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("top_k {}: the VLM needs 2 or more candidates", top_k), "top_k");
    }
    if (answer_tokens < 1) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("answer_tokens {}: must be 1 or more", answer_tokens),
                    "answer_tokens");
    }
    if (!(max_megapixels > 0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("max_megapixels {}: must be above 0", max_megapixels),
                    "max_megapixels");
    }
    if (bootstrap_resamples < 100) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("bootstrap_resamples {}: 100 or more resamples for a 95% interval", bootstrap_resamples),
                    "bootstrap_resamples");
    }
    vlm.validate();
}

nlohmann::ordered_json EvalParams::settings(const std::string & model_sha256, const std::string & mmproj_sha256) const {
    std::vector<std::string> overlays;
    for (const auto & overlay : kb_overlays) {
        overlays.push_back(overlay.string());
    }
    nlohmann::ordered_json out{{"protocol", protocol},
                               {"manifest", manifest.string()},
                               {"label_set", label_set},
                               {"kb_overlays", overlays},
                               {"model", {{"path", vlm.model_path.string()}, {"sha256", model_sha256}}},
                               {"mmproj", {{"path", vlm.mmproj_path.string()}, {"sha256", mmproj_sha256}}},
                               {"seeds", seeds},
                               {"seed", seed},
                               {"shots", shots},
                               {"shot_counts", shot_counts},
                               {"top_k", top_k},
                               {"conformal_score", conformal_score},
                               {"conformal_per_class", conformal_per_class},
                               {"strategy", strategy},
                               {"style", pipeline::style_name(style)},
                               {"schema", pipeline::schema_name(schema)},
                               {"decide", pipeline::decide_mode_name(decide)},
                               {"answer_tokens", answer_tokens},
                               {"context_size", vlm.context_size},
                               {"temperature", temperature}};
    if (is_vqa()) {
        out["rouge"] = rouge;  // only here, so that the other protocols' runs from before it still resume
    }
    return out;
}

EvalParams EvalParams::from_settings(const nlohmann::ordered_json & settings) {
    try {
        EvalParams params;
        params.protocol = settings.at("protocol");
        params.manifest = settings.at("manifest").get<std::string>();
        params.label_set = settings.at("label_set");
        for (const auto & overlay : settings.at("kb_overlays")) {
            params.kb_overlays.emplace_back(overlay.get<std::string>());
        }
        params.vlm.model_path = settings.at("model").at("path").get<std::string>();
        params.vlm.mmproj_path = settings.at("mmproj").at("path").get<std::string>();
        params.vlm.context_size = settings.at("context_size");
        params.temperature = settings.at("temperature");
        params.seeds = settings.at("seeds");
        params.seed = settings.at("seed");
        params.shots = settings.at("shots");
        params.shot_counts = settings.at("shot_counts").get<std::vector<std::size_t>>();
        params.top_k = settings.at("top_k");
        // Runs from before the conformal options had aps-plain marginal sets.
        params.conformal_score = settings.value("conformal_score", "aps-plain");
        params.conformal_per_class = settings.value("conformal_per_class", false);
        params.strategy = settings.at("strategy");
        params.style = pipeline::parse_style(settings.at("style").get<std::string>());
        params.schema = pipeline::parse_schema(settings.at("schema").get<std::string>());
        params.decide = pipeline::parse_decide_mode(settings.at("decide").get<std::string>());
        params.answer_tokens = settings.at("answer_tokens");
        params.rouge = settings.value("rouge", "sentence");  // runs from before skinvl-vqa
        return params;
    } catch (const nlohmann::json::exception & e) {
        throw Error(ErrorKind::InvalidInput, fmt::format("run settings: {}", e.what()));
    }
}

EvalSession::EvalSession(EvalParams params) : params_(std::move(params)) {
    params_.validate();
    std::vector<std::filesystem::path> dirs{kb::KnowledgeBase::shipped_dir()};
    dirs.insert(dirs.end(), params_.kb_overlays.begin(), params_.kb_overlays.end());
    kb_ = kb::KnowledgeBase::load(dirs);
    if (params_.is_vqa()) {
        vqa_ = load_vqa_set(params_.manifest);
        dataset_ = vqa_.dataset;
    } else {
        dataset_ = load_eval_dataset(params_.manifest, kb_, params_.label_set, params_.seed);
    }
    test_rows_ = dataset_.rows_of_split("test");
    if (test_rows_.empty()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("manifest '{}' has no test images to evaluate on", params_.manifest.string()));
    }
    if (params_.limit > 0 && test_rows_.size() > params_.limit) {
        test_rows_.resize(params_.limit);
    }
    if (!params_.cache.empty()) {
        cache_ = std::make_unique<vision::EmbeddingCache>(params_.cache);
    }
}

EvalSession::~EvalSession() = default;

Engine & EvalSession::engine() {
    if (!engine_) {
        EngineParams engine_params;
        engine_params.model = params_.vlm.model_path;
        engine_params.mmproj = params_.vlm.mmproj_path;
        engine_params.embedding_cache = params_.cache;
        engine_params.kb_overlays = params_.kb_overlays;
        engine_params.threads = params_.vlm.threads;
        engine_params.context_size = params_.vlm.context_size;
        engine_params.batch_size = params_.vlm.batch_size;
        engine_params.flash_attention = params_.vlm.text_flash_attention;
        engine_params.vision_flash_attention = params_.vlm.vision_flash_attention;
        engine_params.log = params_.vlm.log;
        engine_ = std::make_unique<Engine>(std::move(engine_params));
    }
    return *engine_;
}

model::Vlm & EvalSession::vlm() {
    return EngineInternals::vlm(engine());
}

const vision::EncoderIdentity & EvalSession::encoder() {
    if (!encoder_) {
        encoder_ = vision::encoder_identity(params_.vlm.mmproj_path, vision::FeatureKind::EncoderMean);
    }
    return *encoder_;
}

const std::string & EvalSession::image_sha256(std::size_t image) {
    auto found = sha256_.find(image);
    if (found == sha256_.end()) {
        found = sha256_.emplace(image, sha256_file(dataset_.images.at(image).path)).first;
    }
    return found->second;
}

const model::ImageEncoding & EvalSession::encoding(std::size_t image) {
    if (held_ && held_->first == image) {
        return EngineInternals::encoding(held_->second);
    }
    held_.reset();
    const DecodeLimits limits{static_cast<std::uint64_t>(params_.max_megapixels * 1e6)};
    const Image file = Image::from_file(dataset_.images[image].path, limits);
    sha256_.emplace(image, file.sha256());  // hashed once, also for the image's cached feature
    held_.emplace(image, engine().encode(file));
    return EngineInternals::encoding(held_->second);
}

const std::vector<float> & EvalSession::feature(std::size_t image) {
    if (const auto found = features_.find(image); found != features_.end()) {
        return found->second;
    }
    std::optional<std::vector<float>> stored = cache_ ? cache_->feature(image_sha256(image), encoder()) : std::nullopt;
    return features_.emplace(image, stored ? std::move(*stored) : encoding(image).encoder_mean).first->second;
}

const probe::Probe & EvalSession::probe(std::size_t shots, std::uint64_t seed) {
    const auto key = std::make_pair(shots, seed);
    if (const auto found = probes_.find(key); found != probes_.end()) {
        return found->second;
    }
    // Every image outside the test split: train rows to learn from, calib rows to calibrate on.
    vision::FeatureTable table;
    table.encoder = encoder();
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < dataset_.images.size(); ++i) {
        if (dataset_.images[i].split != "test") {
            rows.push_back(i);
        }
    }
    if (progress_ && probes_.empty()) {
        progress_(fmt::format("features of {} training and calibration images", rows.size()));
    }
    for (const std::size_t i : rows) {
        const std::vector<float> & values = feature(i);
        if (table.features.size() == 0) {
            table.features.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(values.size()));
        }
        table.features.row(static_cast<Eigen::Index>(table.images.size())) =
            Eigen::Map<const Eigen::RowVectorXf>(values.data(), static_cast<Eigen::Index>(values.size()));
        const EvalImage & image = dataset_.images[i];
        table.images.push_back(image.image);
        table.labels.push_back(dataset_.classes[image.cls]);
        table.splits.push_back(image.split);
        table.patient_ids.push_back(image.patient_id);
    }
    probe::TrainParams train;
    train.shots = shots;
    train.seed = seed;
    train.seeds = 1;
    train.class_order = dataset_.classes;
    train.label_set = dataset_.label_set;
    train.top_k = params_.top_k;
    train.conformal.params = probe::parse_conformal_score(params_.conformal_score);
    train.conformal.per_class = params_.conformal_per_class;
    probe::TrainReport report = probe::train_probes(table, train, params_.manifest.string());
    return probes_.emplace(key, std::move(report.runs.front().probe)).first->second;
}

std::vector<double> EvalSession::probe_probabilities(const probe::Probe & probe, std::size_t image) {
    const std::vector<float> & values = feature(image);
    const Eigen::MatrixXf row = Eigen::Map<const Eigen::RowVectorXf>(values.data(), static_cast<Eigen::Index>(values.size()));
    const Eigen::MatrixXd probabilities = probe.probabilities(row);
    return {probabilities.data(), probabilities.data() + probabilities.size()};
}

}  // namespace dermlens::eval
