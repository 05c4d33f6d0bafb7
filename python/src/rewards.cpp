// dermlens.rewards: the model-free training signals of dermlens/rewards.h (docs/rewards.md) —
// Skin-R1's R_total, SkinFlow's positional top-K and caption rewards, GRPO's advantages and
// objective — for trainers in Python. Items are dicts or JSON text, as the exports write them;
// the knowledge base is the shipped one unless one is given. dermlens.rewards.verl and .trl
// (Python) wrap these in the call shapes of VERL and TRL.
#include "bindings.h"

#include "dermlens/error.h"
#include "dermlens/rewards.h"

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::python {
namespace {

namespace rw = dermlens::rewards;

// The shipped knowledge base, loaded on first use and kept: trainers score millions of completions.
const kb::KnowledgeBase & shipped_kb() {
    static const kb::KnowledgeBase base = kb::KnowledgeBase::load({kb::KnowledgeBase::shipped_dir()});
    return base;
}

const kb::KnowledgeBase & kb_or_shipped(const kb::KnowledgeBase * base) {
    return base != nullptr ? *base : shipped_kb();
}

// An item as JSON: a dict (or any JSON-able value) or its JSON text.
nlohmann::json item_of(const py::handle & item) {
    const std::string text = py::isinstance<py::str>(item)
                                 ? item.cast<std::string>()
                                 : py::module_::import("json").attr("dumps")(item).cast<std::string>();
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error & e) {
        throw Error(ErrorKind::InvalidArgument, std::string("item: not JSON: ") + e.what(), "item");
    }
}

py::dict score_of(const rw::RewardScore & score) {
    py::dict out;
    out["score"] = score.score;
    out["parts"] = score.parts;
    out["detail"] = to_python(score.detail);
    out["problem"] = score.problem.empty() ? py::object(py::none()) : py::object(py::str(score.problem));
    return out;
}

rw::SkinR1Params skinr1_params(const std::string & thinking_tag, const std::string & answer_tag,
                               const std::string & format_rule) {
    rw::SkinR1Params params;
    params.thinking_tag = thinking_tag;
    params.answer_tag = answer_tag;
    params.format_rule = rw::parse_format_rule(format_rule);
    params.validate();
    return params;
}

rw::GrpoCompletion grpo_completion_of(const py::handle & row) {
    rw::GrpoCompletion completion;
    completion.logp = row["logp"].cast<std::vector<double>>();
    completion.old_logp = row["old_logp"].cast<std::vector<double>>();
    completion.ref_logp = row["ref_logp"].cast<std::vector<double>>();
    completion.advantage = row["advantage"].cast<double>();
    return completion;
}

}  // namespace

void register_rewards(py::module_ & module) {
    py::module_ m = module.def_submodule("rewards", "Training rewards without a model (docs/rewards.md).");
    m.def(
        "score",
        [](const std::string & reward, const std::string & completion, const py::object & item,
           const kb::KnowledgeBase * base) {
            return score_of(rw::score(kb_or_shipped(base), reward, completion, item_of(item)));
        },
        py::arg("reward"), py::arg("completion"), py::arg("item"), py::kw_only(), py::arg("kb") = nullptr,
        "Score one completion with the reward `reward` (skinr1 | skinflow-topk | skinflow-caption, the caption "
        "judge-free): {score, parts, detail, problem}. A malformed completion scores 0; a bad item raises "
        "dermlens.InvalidArgument naming the field.");
    m.def(
        "skinr1",
        [](const std::string & completion, const py::object & item, const kb::KnowledgeBase * base,
           const std::string & thinking_tag, const std::string & answer_tag, const std::string & format_rule) {
            return score_of(rw::score_skinr1(kb_or_shipped(base), completion, item_of(item),
                                             skinr1_params(thinking_tag, answer_tag, format_rule)));
        },
        py::arg("completion"), py::arg("item"), py::kw_only(), py::arg("kb") = nullptr,
        py::arg("thinking_tag") = "thinking", py::arg("answer_tag") = "final diagnosis",
        py::arg("format_rule") = "ordered",
        "Skin-R1's R_total = R_format + R_gran + R_malignancy (paper 002, eqs. 5-8), in [0, 2].");
    m.def(
        "skinr1_format",
        [](const std::string & completion, const std::string & thinking_tag, const std::string & answer_tag,
           const std::string & format_rule) {
            return rw::skinr1_format(completion, skinr1_params(thinking_tag, answer_tag, format_rule));
        },
        py::arg("completion"), py::kw_only(), py::arg("thinking_tag") = "thinking",
        py::arg("answer_tag") = "final diagnosis", py::arg("format_rule") = "ordered", "R_format alone (0 or 1).");
    m.def(
        "skinflow_topk",
        [](const std::string & completion, const py::object & item, const kb::KnowledgeBase * base,
           std::vector<double> position_weights) {
            rw::TopKParams params;
            params.position_weights = std::move(position_weights);
            return score_of(rw::score_skinflow_topk(kb_or_shipped(base), completion, item_of(item), params));
        },
        py::arg("completion"), py::arg("item"), py::kw_only(), py::arg("kb") = nullptr,
        py::arg("position_weights") = std::vector<double>{},
        "SkinFlow's positional top-K reward (paper 003, eqs. 7-8): w_i at the first clinically correct entry.");
    m.def(
        "skinflow_caption",
        [](const std::string & completion, const py::object & item, std::map<std::string, double> weights,
           double reference_empty_score, bool binarise, const std::optional<rw::TextGenerator> & judge) {
            rw::CaptionParams params;
            params.weights = std::move(weights);
            params.reference_empty_score = reference_empty_score;
            params.binarise = binarise;
            return score_of(rw::score_skinflow_caption(completion, item_of(item), params, judge ? &*judge : nullptr));
        },
        py::arg("completion"), py::arg("item"), py::kw_only(), py::arg("weights") = std::map<std::string, double>{},
        py::arg("reference_empty_score") = 5.0, py::arg("binarise") = false, py::arg("judge") = py::none(),
        "SkinFlow's caption reward (paper 003, eq. 6) on the 0..10 scale: judge-free field matching, or "
        "judge(prompt, grammar) -> reply scoring the fields.");
    m.def(
        "skinr1_item",
        [](const std::string & truth, const std::vector<std::string> & options, const std::string & normalise,
           const std::string & label_set, const kb::KnowledgeBase * base) {
            return to_python(rw::skinr1_item(kb_or_shipped(base), truth, options,
                                             rw::parse_gran_normalise(normalise), label_set));
        },
        py::arg("truth"), py::arg("options"), py::kw_only(), py::arg("normalise") = "path",
        py::arg("label_set") = "", py::arg("kb") = nullptr,
        "A Skin-R1 multiple-choice item with each option's R_gran precomputed.");
    m.def(
        "topk_item", [](const std::string & truth, const std::string & label_set) {
            return to_python(rw::topk_item(truth, label_set));
        },
        py::arg("truth"), py::arg("label_set") = "", "A SkinFlow top-K item.");
    m.def(
        "caption_item", [](const py::object & reference) { return to_python(rw::caption_item(item_of(reference))); },
        py::arg("reference"), "A SkinFlow caption item from the reference caption's fields.");
    m.def("group_advantages", &rw::group_advantages, py::arg("rewards"), py::arg("group_size"),
          py::arg("epsilon") = 1e-4,
          "GRPO's group-normalised advantages: (r - mean) / (sample std + epsilon) per consecutive group; 0 for "
          "a group of equal rewards.");
    m.def(
        "grpo_objective",
        [](const py::iterable & batch, double clip_low, double clip_high, double beta, const std::string & aggregation) {
            std::vector<rw::GrpoCompletion> completions;
            for (const py::handle row : batch) {
                completions.push_back(grpo_completion_of(row));
            }
            rw::GrpoParams params;
            params.clip_low = clip_low;
            params.clip_high = clip_high;
            params.beta = beta;
            if (aggregation == "sequence-mean") {
                params.aggregation = rw::LossAggregation::SequenceMean;
            } else if (aggregation == "token-mean") {
                params.aggregation = rw::LossAggregation::TokenMean;
            } else {
                throw Error(ErrorKind::InvalidArgument,
                            "aggregation '" + aggregation + "': must be sequence-mean or token-mean", "aggregation");
            }
            const rw::GrpoObjective objective = rw::grpo_objective(completions, params);
            py::dict out;
            out["loss"] = objective.loss;
            out["surrogate"] = objective.surrogate;
            out["kl"] = objective.kl;
            out["clip_fraction"] = objective.clip_fraction;
            return out;
        },
        py::arg("batch"), py::kw_only(), py::arg("clip_low") = 0.2, py::arg("clip_high") = 0.2,
        py::arg("beta") = 0.04, py::arg("aggregation") = "sequence-mean",
        "GRPO's clipped objective with the k3 KL estimate, as a reference: batch rows are dicts of logp, "
        "old_logp, ref_logp (per token) and advantage. {loss, surrogate, kl, clip_fraction}.");
}

}  // namespace dermlens::python
