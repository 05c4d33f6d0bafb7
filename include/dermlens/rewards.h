// Training signals for reinforcement learning of dermatology VLMs, model-free (CMake target
// dermlens_rewards: knowledge base and text code, no llama.cpp): what a trainer (TRL, VERL,
// EasyR1) calls once per completion, and GRPO's advantages and objective as a reference.
//
//   Skin-R1 (paper 002, section 3.2.2, eqs. 5-8): R_total = R_format + R_gran + R_malignancy,
//     in [0, 2]: the tag structure of the prompt (1), 0.75 times the depth weight of the chosen
//     option on the truth's taxonomy path (eq. 7), 0.25 when the lesion condition (benign /
//     malignant / precancerous in situ) agrees. Option letters are read strictly: a letter in
//     range standing alone or followed by ":", ")" or ".", else the option's text through the
//     knowledge base's names; never the first capital of a word ("benign" is not B).
//   SkinFlow (paper 003, eqs. 6-8): the positional top-K reward r = w_i at the first correct
//     entry of the top{k}_diseases JSON, correctness by the knowledge base's clinical grading
//     (exact, synonym, subclass, acceptable parent); and the caption reward R = sum a_i s_i over
//     the 12-field caption schema, s_i in 0..10 from a judge model or, without one, from
//     judge-free field matching.
//   GRPO (paper 002 eq. 4, paper 003 eq. 5): group-normalised advantages and the per-token
//     clipped objective with the k3 KL estimate.
//
// Every choice the papers leave open is recorded in docs/rewards.md. Items (the ground truth of
// one prompt) are JSON objects, exactly what `dermlens train-data export` writes into
// reward_model.ground_truth (VERL), answer (EasyR1) and the dataset columns (TRL); bad items
// throw Error(InvalidArgument) naming the field. A malformed completion never throws: it scores 0.
#pragma once

#include "dermlens/kb.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::rewards {

// One scored completion: the reward, its named parts (Skin-R1: "format", "gran", "malignancy";
// SkinFlow top-K: "position" ; caption: one per scored field, 0..10), and what was read
// ("choice", "first_correct", "predicted_malignancy", "grades", ... as JSON) or why nothing was.
struct RewardScore {
    double score = 0;
    std::map<std::string, double> parts;
    nlohmann::json detail = nlohmann::json::object();
    std::string problem;  // empty when the completion was read
};

// The JSON VERL's compute_score returns: {"score": s, <part>: v, ...}.
nlohmann::json to_json(const RewardScore & score);

// ---------------------------------------------------------------------------------------------
// Skin-R1

// How R_gran's depth weight is normalised. Path (eq. 7, the default): w = i*/L, the chosen
// option's depth over the truth's depth, the root excluded. Options (the authors' code):
// w = i*/i_max, over the deepest correct option offered, so the best option always scores 0.75.
enum class GranNormalise { Path, Options };
std::string_view gran_normalise_name(GranNormalise value) noexcept;  // "path" | "options"
GranNormalise parse_gran_normalise(std::string_view name);           // Error(InvalidArgument)

// How R_format reads the tags. Ordered (the default; the authors' code): the stripped completion
// is <thinking>...</thinking> then <final diagnosis>...</final diagnosis> and nothing else, tags in
// any case. Present (eq. 6's words read literally): each of the four tags occurs somewhere.
enum class FormatRule { Ordered, Present };
std::string_view format_rule_name(FormatRule value) noexcept;  // "ordered" | "present"
FormatRule parse_format_rule(std::string_view name);           // Error(InvalidArgument)

struct SkinR1Params {
    std::string thinking_tag = "thinking";        // RL prompt; the SFT trajectories use the same
    std::string answer_tag = "final diagnosis";   // RL prompt; "diagnosis" for SFT trajectories
    FormatRule format_rule = FormatRule::Ordered;
    void validate() const;  // tags non-empty, without '<' or '>'
};

// A Skin-R1 multiple-choice item: `options` (condition ids, 2..26, shown in this order as A, B,
// ...) for the condition `truth` (an id), each option's R_gran precomputed, and the truth's
// lesion condition. Built by skinr1_item(); read back from JSON by the scorer.
//   {"task": "mcq", "truth": id, "label_set": name|"", "options": [id...], "option_names": [name...],
//    "option_scores": [0.75, 0, ...], "correct": "B", "malignancy": "malignant"|"benign"|
//    "precancerous"|"", "gran_normalise": "path"|"options"}
nlohmann::json skinr1_item(const kb::KnowledgeBase & kb, const std::string & truth,
                           const std::vector<std::string> & options, GranNormalise normalise = GranNormalise::Path,
                           const std::string & label_set = "");

// R_gran of each option (0.75 * depth weight on the truth's path, 0 off it).
std::vector<double> option_gran_scores(const kb::KnowledgeBase & kb, const std::string & truth,
                                       const std::vector<std::string> & options, GranNormalise normalise);

// R_format alone (0 or 1).
double skinr1_format(std::string_view completion, const SkinR1Params & params = {});

// R_total with parts "format", "gran", "malignancy"; detail "choice" (letter or null),
// "choice_status" (letter | label_name | synonym | unparseable), "predicted_malignancy".
RewardScore score_skinr1(const kb::KnowledgeBase & kb, std::string_view completion, const nlohmann::json & item,
                         const SkinR1Params & params = {});

// ---------------------------------------------------------------------------------------------
// SkinFlow top-K

struct TopKParams {
    // w_1..w_K, strictly decreasing in (0, 1]; empty: read from <data_dir()>/rewards/skinflow-topk.json.
    std::vector<double> position_weights;
    void validate() const;
};
// The position weights of the shipped data file (w_i = 1 - (i-1)/K, K = 6).
std::vector<double> default_position_weights();

// A top-K item: {"task": "topk", "truth": label, "label_set": name|""}.
nlohmann::json topk_item(const std::string & truth, const std::string & label_set = "");

// r = w_i at the first correct entry (positions as written: a repeated condition keeps its
// slot, only the first K entries count), 0 when none is correct or the reply is malformed (no
// <answer>...</answer>, not JSON, no list). Part "position"; detail "first_correct" (1-based or
// null), "grades" (one per entry read).
RewardScore score_skinflow_topk(const kb::KnowledgeBase & kb, std::string_view completion, const nlohmann::json & item,
                                const TopKParams & params = {});

// ---------------------------------------------------------------------------------------------
// SkinFlow caption

// A judge: the reply of a text model to `prompt`, generated under the GBNF `grammar`. The CLI
// runs a local GGUF model through Engine::generate; tests pass a function.
using TextGenerator = std::function<std::string(const std::string & prompt, const std::string & grammar)>;

struct CaptionParams {
    // Field weights a_i summing to 1, in schema order; empty: <data_dir()>/rewards/caption-weights.json.
    std::map<std::string, double> weights;
    double reference_empty_score = 5;  // the prediction describes what the reference leaves empty
    bool binarise = false;             // s_i >= 6 -> 10, else 0 (the paper's "acceptable")
    void validate() const;
};

// A caption item: {"task": "caption", "reference": {12 fields}}; an absent field reads as "".
nlohmann::json caption_item(const nlohmann::json & reference);

// R on the paper's 0..10 scale (parts: each scored field's s_i; detail "unit" = R/10, "judge":
// "matching" | "model", "skipped": fields empty in both). A field empty in both is skipped and the
// weights renormalised; empty in the prediction only scores 0; empty in the reference only scores
// reference_empty_score. With `judge`, the other fields are scored by it in one call (prompt
// data/prompts/caption-judge.txt, grammar data/grammars/caption-judge.gbnf); without, by
// judge-free field matching (docs/rewards.md). A caption that is not a JSON object scores 0.
RewardScore score_skinflow_caption(std::string_view completion, const nlohmann::json & item,
                                   const CaptionParams & params = {}, const TextGenerator * judge = nullptr);

// ---------------------------------------------------------------------------------------------
// Any of the above by name: "skinr1" | "skinflow-topk" | "skinflow-caption" (the caption judge-free).
RewardScore score(const kb::KnowledgeBase & kb, std::string_view reward, std::string_view completion,
                  const nlohmann::json & item);

// ---------------------------------------------------------------------------------------------
// GRPO

// A_j = (r_j - mean) / (std + epsilon) per consecutive group of `group_size` rewards, std the
// sample (Bessel-corrected) standard deviation; a group of equal rewards gets 0. Throws
// Error(InvalidArgument) unless group_size >= 2 divides rewards.size() and epsilon >= 0.
std::vector<double> group_advantages(const std::vector<double> & rewards, std::size_t group_size,
                                     double epsilon = 1e-4);

// How per-token losses become one number: SequenceMean (paper 003's 1/|o_i|, the authors' code
// of paper 002): the mean over each completion's tokens, then over completions; TokenMean: the
// mean over all tokens of the batch.
enum class LossAggregation { SequenceMean, TokenMean };

struct GrpoParams {
    double clip_low = 0.2;   // epsilon: ratios are clipped to [1 - clip_low, 1 + clip_high]
    double clip_high = 0.2;
    double beta = 0.04;      // KL weight (TRL 0.14's default, which the Skin-R1 code used)
    LossAggregation aggregation = LossAggregation::SequenceMean;
    void validate() const;
};

// Per completion j: its tokens' log-probabilities under the policy (logp), the policy that
// sampled it (old_logp) and the reference (ref_logp), all the same length >= 1, and its advantage.
struct GrpoCompletion {
    std::vector<double> logp, old_logp, ref_logp;
    double advantage = 0;
};

// The loss to minimise, -(min(rho A, clip(rho) A) - beta KL_t) per token with rho = exp(logp -
// old_logp) and KL_t = exp(ref - logp) - (ref - logp) - 1 (k3), aggregated; also the aggregated
// surrogate, KL and the fraction of tokens whose ratio was clipped.
struct GrpoObjective {
    double loss = 0;
    double surrogate = 0;
    double kl = 0;
    double clip_fraction = 0;
};
GrpoObjective grpo_objective(const std::vector<GrpoCompletion> & batch, const GrpoParams & params = {});

}  // namespace dermlens::rewards
