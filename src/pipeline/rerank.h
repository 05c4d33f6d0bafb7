// The grounded re-ranking pipeline (paper 000 sections 3.1-3.4): for one encoded image,
// the candidates (the whole label set, or the probe's top-k / conformal set), the prompt
// of the strategy and style, the description first when asked, then the decision — the
// VLM's next-token probabilities over the option letters (one forward step), or a free
// answer parsed back — fused with the probe's probabilities, and the differential,
// final diagnosis or abstention that follow.
//
// The image is encoded once by the caller; every turn of every strategy reads that one
// encoding, and the model reuses the KV cache of the prefix turns share.
#pragma once

#include "dermlens/kb/knowledge_base.h"
#include "model/vlm.h"
#include "pipeline/attention_evidence.h"
#include "pipeline/answer_parse.h"
#include "pipeline/description.h"
#include "pipeline/prompt.h"
#include "probe/abstention.h"
#include "probe/candidates.h"
#include "probe/probe.h"
#include "vision/feature_table.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::pipeline {

// --decide: "score" reads option probabilities from one forward step; "generate" parses a free answer.
enum class DecideMode { Score, Generate };
const char * decide_mode_name(DecideMode mode) noexcept;
DecideMode parse_decide_mode(const std::string & text);  // throws Error(InvalidArgument)

struct RerankParams {
    Strategy strategy = Strategy::Direct;
    PromptStyle style = PromptStyle::Dermlens;
    DescriptionSchema schema = DescriptionSchema::FiveCriteria;
    DecideMode decide = DecideMode::Score;
    probe::CandidateParams candidates;  // topk / conformal strategies: which of the probe's classes
    probe::AbstentionParams abstention;
    bool shuffle_options = false;  // seeded per image: measures position bias
    std::uint32_t seed = 0;
    float temperature = 0;    // of generated text (description, free answer); 0 = greedy
    int answer_tokens = 64;   // --decide generate: most tokens of the answer
    // Attention maps of the diagnosis (paper 000 eq. 2-4); the Vlm must capture attention.
    std::optional<grounding::AttentionReduction> attention;
    bool keep_attention_steps = false;  // the raw per-head rows too (AttentionEvidence::raw_steps)

    void validate() const;  // throws Error(InvalidArgument)
};

using CandidateScore = dermlens::CandidateScore;  // dermlens/diagnosis.h

using FinalDiagnosis = dermlens::FinalDiagnosis;  // dermlens/diagnosis.h

using RerankTimings = dermlens::DiagnosisTimings;  // dermlens/diagnosis.h

// What the conformal candidate set promises (--candidates conformal): P(true class in set)
// >= coverage, marginal over images or for each class.
struct SetGuarantee {
    std::string score;       // lac | aps | raps | aps-plain | raps-plain
    double alpha = 0.1;
    bool per_class = false;  // class-conditional (Mondrian) calibration
    std::size_t calibration_rows = 0;
    std::size_t set_size = 0;  // of this image's set, before a one-class set gets its runner-up
    std::string text;        // probe::set_guarantee
};

struct RerankResult {
    RerankParams params;
    std::optional<SetGuarantee> conformal;    // the candidates are the probe's conformal set
    std::vector<std::string> markers;         // option letters, the not-sure option's last
    std::vector<CandidateScore> candidates;   // in the order the prompt shows them
    std::vector<std::size_t> differential;    // candidate indices, most probable (fused) first
    std::optional<double> not_sure_probability;  // the VLM's, when offered
    std::optional<double> fusion_weight;      // of the probe, when fused
    std::optional<FinalDiagnosis> final;      // empty when abstained or the free answer is unparseable
    bool abstained = false;
    std::string abstain_reason;
    std::optional<LesionDescription> description;
    std::string description_text;  // raw
    std::string answer_text;       // --decide generate: the raw reply
    std::optional<ParsedChoice> parsed;  // --decide generate
    ClinicalContext context;
    std::optional<AttentionEvidence> attention;  // with RerankParams::attention
    RerankTimings timings;
};

class Reranker {
public:
    // `labels` are the classes to choose among (the probe's when there is one); `label_set`
    // names them in the knowledge base ("" resolves labels by name). A probe must fit the
    // model's encoder: `model_encoder` is its identity when the caller has it already (else it
    // is computed from the mmproj, hashing the file). Throws Error(InvalidArgument) for
    // parameters that do not fit each other (a topk strategy without probe, more than 26
    // options), Error(InvalidInput) for a probe of another encoder.
    Reranker(model::Vlm & vlm, const kb::KnowledgeBase & kb, RerankParams params, std::vector<std::string> labels,
             std::string label_set, const probe::Probe * probe,
             const vision::EncoderIdentity * model_encoder = nullptr);

    // `image_seed` varies the shuffled option order per image (e.g. from the image's hash).
    RerankResult diagnose(const model::ImageEncoding & encoding, const ClinicalContext & context,
                          std::uint64_t image_seed = 0);

    const std::vector<std::string> & labels() const noexcept { return labels_; }

private:
    std::vector<std::size_t> candidate_classes(const model::ImageEncoding & encoding,
                                               std::vector<double> & class_probabilities, std::uint64_t image_seed,
                                               std::optional<SetGuarantee> & conformal) const;
    std::vector<double> probe_probabilities(const model::ImageEncoding & encoding) const;
    FinalDiagnosis final_diagnosis(const CandidateScore & candidate) const;

    model::Vlm & vlm_;
    const kb::KnowledgeBase & kb_;
    RerankParams params_;
    std::vector<std::string> labels_;
    std::vector<std::string> conditions_;   // per label
    std::vector<std::string> descriptions_; // per label, for in-context prompts
    const probe::Probe * probe_;
};

// The first user turn: preamble, the image, the image question.
std::string first_turn_text(const PromptTurns & turns);

}  // namespace dermlens::pipeline
