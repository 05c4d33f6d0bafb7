#include "pipeline/rerank.h"

#include "common/random.h"
#include "dermlens/error.h"
#include "metrics/metrics.h"
#include "pipeline/direct.h"
#include "probe/fusion.h"
#include "vision/encoder_identity.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

namespace dermlens::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using model::ChatTurn;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Softmax of log-probabilities (they cover part of the vocabulary: renormalised over these).
std::vector<double> normalised(const std::vector<double> & log_probabilities) {
    const double top = *std::max_element(log_probabilities.begin(), log_probabilities.end());
    std::vector<double> p;
    for (const double lp : log_probabilities) {
        p.push_back(std::exp(lp - top));
    }
    const double sum = std::accumulate(p.begin(), p.end(), 0.0);
    for (double & v : p) {
        v /= sum;
    }
    return p;
}

std::vector<double> renormalised(std::vector<double> p) {
    const double sum = std::accumulate(p.begin(), p.end(), 0.0);
    for (double & v : p) {
        v = sum > 0 ? v / sum : 1.0 / static_cast<double>(p.size());
    }
    return p;
}

std::vector<std::size_t> ranked(const std::vector<double> & p) {
    return metrics::ranked_classes(Eigen::Map<const Eigen::RowVectorXd>(p.data(), static_cast<Eigen::Index>(p.size())));
}

// Observes the Vlm's attention for one diagnosis and stops however the diagnosis ends.
class ObservedAttention {
public:
    ObservedAttention(model::Vlm & vlm, const grounding::AttentionReduction & reduction, bool keep_steps)
        : vlm_(vlm), recorder_(reduction, keep_steps) {
        vlm_.set_attention_observer(&recorder_);
    }
    ~ObservedAttention() { vlm_.set_attention_observer(nullptr); }
    ObservedAttention(const ObservedAttention &) = delete;
    ObservedAttention & operator=(const ObservedAttention &) = delete;

    std::size_t steps() const noexcept { return recorder_.rows().size(); }

    // Steps first .. first+count-1 become part of the response (m_all).
    void add_response(std::size_t first, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            response_.push_back(first + i);
        }
    }
    void set_label(std::vector<std::size_t> steps) { label_ = std::move(steps); }

    std::vector<float> mean(const std::vector<std::size_t> & steps) const {
        return grounding::mean_of_rows(recorder_.rows(), steps);
    }
    const std::vector<std::size_t> & response() const noexcept { return response_; }
    const std::vector<std::size_t> & label() const noexcept { return label_; }
    const std::vector<model::AttentionStep> & raw_steps() const noexcept { return recorder_.steps(); }

private:
    model::Vlm & vlm_;
    grounding::AttentionRecorder recorder_;
    std::vector<std::size_t> response_;
    std::vector<std::size_t> label_;
};

AttentionEvidence evidence(const ObservedAttention & attention, const model::ImageLayout & layout,
                           const std::string & label_source) {
    AttentionEvidence out;
    out.layout = layout;
    out.all_steps = attention.response();
    if (!out.all_steps.empty()) {
        out.all_map = attention.mean(out.all_steps);
    }
    out.label_steps = attention.label();
    if (!out.label_steps.empty()) {
        out.label_map = attention.mean(out.label_steps);
        out.label_source = label_source;
    }
    out.raw_steps = attention.raw_steps();
    return out;
}

}  // namespace

std::string first_turn_text(const PromptTurns & turns) {
    const std::string image = std::string(model::Vlm::image_marker()) + "\n" + turns.image_question;
    return turns.preamble.empty() ? image : turns.preamble + "\n" + image;
}

Reranker::Reranker(model::Vlm & vlm, const kb::KnowledgeBase & kb, RerankParams params, std::vector<std::string> labels,
                   std::string label_set, const probe::Probe * probe, const vision::EncoderIdentity * model_encoder)
    : vlm_(vlm), kb_(kb), params_(std::move(params)), labels_(std::move(labels)), probe_(probe) {
    params_.validate();
    const StrategyParts parts = strategy_parts(params_.strategy);
    if (parts.probe_candidates && probe_ == nullptr) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("probe: strategy '{}' takes its candidates from a probe, and none is loaded",
                                strategy_name(params_.strategy)),
                    "probe");
    }
    if (!parts.probe_candidates && params_.candidates.mode == probe::CandidateMode::Conformal) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("candidates: strategy '{}' offers every label; a conformal set is for the strategies "
                                "that take the probe's candidates (topk, combined)",
                                strategy_name(params_.strategy)),
                    "candidates");
    }
    if (probe_ != nullptr) {
        const vision::EncoderIdentity ours =
            model_encoder ? *model_encoder : vision::encoder_identity(vlm_.params().mmproj_path, probe_->encoder.kind);
        if (!(ours == probe_->encoder)) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("the probe was trained on features of another encoder ({}) than mmproj '{}' ({})",
                                    probe_->encoder.key(), vlm_.params().mmproj_path.string(), ours.key()));
        }
        labels_ = probe_->classes;
        label_set = probe_->label_set;
    }
    const std::size_t most = kMaxOptions - (params_.abstention.not_sure_option ? 1 : 0);
    if (!parts.probe_candidates && labels_.size() > most) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{} labels are more options than a prompt can letter ({} at most): use a topk strategy "
                                "with a probe",
                                labels_.size(), most));
    }
    for (const auto & label : labels_) {
        conditions_.push_back(label_set.empty() ? kb_.resolve(label) : kb_.resolve(label, label_set));
    }
    if (parts.with_descriptions) {
        for (auto & option : options_with_descriptions(kb_, labels_, label_set)) {
            descriptions_.push_back(std::move(option.description));
        }
    }
}

std::vector<double> Reranker::probe_probabilities(const model::ImageEncoding & encoding) const {
    const std::vector<float> & feature =
        probe_->encoder.kind == vision::FeatureKind::EncoderMean ? encoding.encoder_mean : encoding.projected_mean;
    if (feature.size() != probe_->dimension) {
        throw Error(ErrorKind::InvalidInput, fmt::format("the image's feature has {} values; the probe reads {}",
                                                         feature.size(), probe_->dimension));
    }
    const Eigen::MatrixXf row = Eigen::Map<const Eigen::RowVectorXf>(feature.data(), static_cast<Eigen::Index>(feature.size()));
    const Eigen::MatrixXd p = probe_->probabilities(row);
    return {p.data(), p.data() + p.size()};
}

// The classes the prompt offers, most probable first by the probe (label order without one).
std::vector<std::size_t> Reranker::candidate_classes(const model::ImageEncoding & encoding,
                                                     std::vector<double> & class_probabilities, std::uint64_t image_seed,
                                                     std::optional<SetGuarantee> & conformal) const {
    if (probe_ == nullptr) {
        std::vector<std::size_t> all(labels_.size());
        std::iota(all.begin(), all.end(), 0);
        return all;
    }
    class_probabilities = probe_probabilities(encoding);
    if (!strategy_parts(params_.strategy).probe_candidates) {
        return ranked(class_probabilities);
    }
    const Eigen::MatrixXd row =
        Eigen::Map<const Eigen::RowVectorXd>(class_probabilities.data(), static_cast<Eigen::Index>(class_probabilities.size()));
    probe::CandidateParams candidates = params_.candidates;
    candidates.set.draw_seed = image_seed;  // randomised scores: each image draws its own
    std::vector<std::size_t> chosen = probe::candidate_sets(*probe_, row, candidates).front();
    if (candidates.mode == probe::CandidateMode::Conformal) {
        const probe::Calibration & calibration = *probe_->calibration;
        const double alpha = candidates.set.alpha.value_or(calibration.alpha);
        conformal = SetGuarantee{probe::conformal_score_name(calibration.params), alpha, calibration.per_class,
                                 calibration.scores.size(), chosen.size(), probe::set_guarantee(calibration, alpha)};
    }
    if (chosen.size() < 2) {  // a prompt needs two options: the runner-up joins a one-class set
        chosen = {ranked(class_probabilities)[0], ranked(class_probabilities)[1]};
    }
    return chosen;
}

FinalDiagnosis Reranker::final_diagnosis(const CandidateScore & candidate) const {
    FinalDiagnosis out;
    out.label = candidate.label;
    out.condition = candidate.condition;
    out.name = kb_.condition(candidate.condition).name;
    const auto path = kb_.path_to_root(candidate.condition);
    out.taxonomy_path.assign(path.rbegin(), path.rend());
    if (const auto malignancy = kb_.malignancy(candidate.condition)) {
        out.malignancy = std::string(kb::malignancy_name(*malignancy));
    }
    out.probability = candidate.fused;
    return out;
}

RerankResult Reranker::diagnose(const model::ImageEncoding & encoding, const ClinicalContext & context,
                                std::uint64_t image_seed) {
    const auto start = Clock::now();
    RerankResult out;
    out.params = params_;
    out.context = context;
    out.timings.encode_ms = encoding.encode_ms;

    std::vector<double> class_probabilities;
    std::vector<std::size_t> classes = candidate_classes(encoding, class_probabilities, image_seed, out.conformal);
    if (params_.shuffle_options) {
        std::mt19937_64 rng(params_.seed ^ (image_seed * 0x9E3779B97F4A7C15ull));
        shuffle(classes, rng);  // common/random.h: the same order on every standard library
    }

    PromptRequest request;
    request.style = params_.style;
    request.with_descriptions = strategy_parts(params_.strategy).with_descriptions;
    request.describe_first = strategy_parts(params_.strategy).describe_first;
    request.schema = params_.schema;
    request.not_sure_option = params_.abstention.not_sure_option;
    request.context = context;
    for (const std::size_t c : classes) {
        request.options.push_back({labels_[c], descriptions_.empty() ? std::string() : descriptions_[c]});
    }
    const PromptTurns turns = build_prompt(request);
    out.markers = turns.markers;

    model::ChatPrompt prompt{{{ChatTurn::Role::User, first_turn_text(turns)}}, turns.answer_lead};
    std::optional<ObservedAttention> attention;
    std::string label_source = "decision step";
    if (params_.attention) {
        attention.emplace(vlm_, *params_.attention, params_.keep_attention_steps);
    }
    if (turns.decide_question) {
        const std::size_t first_step = attention ? attention->steps() : 0;
        const auto describe_start = Clock::now();
        const model::Generation described = vlm_.generate(
            encoding, {prompt.turns, ""},
            {static_cast<int>(max_description_tokens(params_.schema)), turns.description_grammar, params_.temperature,
             params_.seed});
        out.description_text = described.text;
        out.description = parse_description(described.text, params_.schema);
        out.timings.describe_ms = ms_since(describe_start);
        out.timings.generated_tokens += static_cast<int>(described.tokens.size());
        if (attention) {
            attention->add_response(first_step, described.tokens.size());
        }
        prompt.turns.push_back({ChatTurn::Role::Assistant, described.text});
        prompt.turns.push_back({ChatTurn::Role::User, *turns.decide_question});
    }

    // The VLM's probabilities over every option, the not-sure option included.
    std::vector<double> option_probabilities(turns.markers.size(), 0.0);
    const auto decide_start = Clock::now();
    const std::size_t decide_step = attention ? attention->steps() : 0;
    if (params_.decide == DecideMode::Score) {
        const model::NextTokenScores scores = vlm_.score_next_token(encoding, prompt, turns.markers);
        if (attention) {
            attention->add_response(decide_step, 1);
            attention->set_label({decide_step});
        }
        option_probabilities = normalised(scores.log_probabilities);
        out.timings.prompt_tokens = scores.prompt_tokens;
        out.timings.reused_tokens = scores.reused_tokens;
    } else {
        const model::Generation answer =
            vlm_.generate(encoding, prompt, {params_.answer_tokens, "", params_.temperature, params_.seed});
        out.answer_text = answer.text;
        out.timings.prompt_tokens = answer.prompt_tokens;
        out.timings.reused_tokens = answer.reused_tokens;
        out.timings.generated_tokens += static_cast<int>(answer.tokens.size());
        std::vector<std::string> option_labels;
        for (const std::size_t c : classes) {
            option_labels.push_back(labels_[c]);
        }
        out.parsed = parse_choice(answer.text, turns, option_labels, params_.style, &kb_);
        if (out.parsed->index) {
            option_probabilities[*out.parsed->index] = 1.0;
        }
        if (attention) {
            attention->add_response(decide_step, answer.tokens.size());
            if (out.parsed->index) {
                const std::size_t chosen = *out.parsed->index;
                const std::string label = chosen < option_labels.size() ? option_labels[chosen] : not_sure_label();
                std::vector<std::size_t> steps = diagnosis_token_steps(answer, out.parsed->answer_text, label,
                                                                       turns.markers[chosen], label_source);
                for (std::size_t & step : steps) {
                    step += decide_step;
                }
                attention->set_label(std::move(steps));
            }
        }
    }
    out.timings.decide_ms = ms_since(decide_start);

    std::vector<double> vlm(classes.size());
    for (std::size_t i = 0; i < classes.size(); ++i) {
        vlm[i] = option_probabilities[i];
    }
    if (turns.not_sure_index) {
        out.not_sure_probability = option_probabilities[*turns.not_sure_index];
    }
    const bool unparseable = out.parsed && !out.parsed->index;
    vlm = unparseable ? std::vector<double>(classes.size(), 1.0 / static_cast<double>(classes.size())) : renormalised(vlm);

    std::vector<double> fused = vlm;
    std::vector<double> probe_side;
    if (probe_ != nullptr) {
        for (const std::size_t c : classes) {
            probe_side.push_back(class_probabilities[c]);
        }
        probe_side = renormalised(probe_side);
        if (probe_->fusion) {
            out.fusion_weight = probe_->fusion->weight;
            fused = probe::fuse(probe_side, vlm, probe_->fusion->weight);
        }
    }
    for (std::size_t i = 0; i < classes.size(); ++i) {
        out.candidates.push_back({labels_[classes[i]], conditions_[classes[i]],
                                  probe_side.empty() ? std::nullopt : std::optional<double>(probe_side[i]), vlm[i],
                                  fused[i]});
    }
    out.differential = ranked(fused);

    if (!unparseable) {  // an unparseable answer gives no diagnosis; parsed->problem says why
        // decide() sees the fused distribution with the VLM's not-sure mass beside it.
        std::vector<double> deciding = fused;
        if (out.not_sure_probability) {
            for (double & p : deciding) {
                p *= 1.0 - *out.not_sure_probability;
            }
            deciding.push_back(*out.not_sure_probability);
        }
        const probe::Decision decision = probe::decide(
            deciding, out.not_sure_probability ? std::optional<std::size_t>(classes.size()) : std::nullopt,
            params_.abstention);
        out.abstained = decision.abstained;
        out.abstain_reason = decision.reason;
        if (decision.choice) {
            out.final = final_diagnosis(out.candidates[*decision.choice]);
        }
    }
    if (attention) {
        out.attention = evidence(*attention, vlm_.image_layout(encoding), label_source);
        out.attention->reduction = *params_.attention;
    }
    out.timings.total_ms = ms_since(start);
    return out;
}

}  // namespace dermlens::pipeline
