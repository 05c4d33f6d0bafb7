// SkinFlow's positional top-K reward (paper 003 eqs. 7-8): r = w_i, i the position of the first
// correct diagnosis, correctness by the knowledge base's clinical grading (section 4.1.4) in
// place of the paper's LLM verifier.
#include "dermlens/error.h"
#include "dermlens/rewards.h"
#include "metrics/graded_diagnosis.h"
#include "pipeline/answer_parse.h"
#include "rewards/data_files.h"
#include "rewards/item_fields.h"
#include "rewards/tags.h"

#include <fmt/format.h>

namespace dermlens::rewards {

void TopKParams::validate() const {
    for (std::size_t i = 0; i < position_weights.size(); ++i) {
        const double w = position_weights[i];
        if (!(w > 0 && w <= 1) || (i > 0 && !(w < position_weights[i - 1]))) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("position_weights: w_{} = {}: weights must be in (0, 1] and strictly decreasing",
                                    i + 1, w),
                        "position_weights");
        }
    }
}

std::vector<double> default_position_weights() {
    TopKParams shipped{shipped_position_weights()};
    if (shipped.position_weights.empty()) {
        throw Error(ErrorKind::InvalidInput, "rewards file 'skinflow-topk.json': \"weights\" is empty");
    }
    shipped.validate();
    return shipped.position_weights;
}

nlohmann::json topk_item(const std::string & truth, const std::string & label_set) {
    if (truth.empty()) {
        throw Error(ErrorKind::InvalidArgument, "truth: empty", "truth");
    }
    return {{"task", "topk"}, {"truth", truth}, {"label_set", label_set}};
}

RewardScore score_skinflow_topk(const kb::KnowledgeBase & kb, std::string_view completion, const nlohmann::json & item,
                                const TopKParams & params) {
    params.validate();
    const std::vector<double> weights = params.position_weights.empty() ? default_position_weights() : params.position_weights;
    nlohmann::json storage;
    const nlohmann::json & fields = item_object(item, storage);
    const std::string truth = string_field(fields, "truth");
    const std::string label_set = string_field(fields, "label_set", /*required=*/false);
    try {
        label_set.empty() ? kb.resolve(truth) : kb.resolve(truth, label_set);
    } catch (const Error & e) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("item.truth: {}", e.what()), "truth");
    }

    RewardScore result;
    result.parts["position"] = 0;
    result.detail["first_correct"] = nullptr;
    result.detail["grades"] = nlohmann::json::array();
    // A reply cut off before </answer> (the generation budget ran out) is malformed, not read.
    if (!tagged_block(completion, "answer")) {
        result.problem = "no <answer>...</answer> block";
        return result;
    }
    const pipeline::SkinFlowDiseases diseases = pipeline::parse_skinflow_diseases(completion);
    if (!diseases.problem.empty()) {
        result.problem = diseases.problem;
        return result;
    }
    const std::size_t read = std::min(diseases.names.size(), weights.size());
    for (std::size_t i = 0; i < read; ++i) {
        const metrics::GradedDiagnosis graded = metrics::grade_diagnosis(kb, diseases.names[i], truth, label_set);
        result.detail["grades"].push_back(metrics::grade_name(graded.grade));
        if (metrics::is_correct(graded.grade)) {
            result.detail["first_correct"] = i + 1;
            result.score = weights[i];
            result.parts["position"] = weights[i];
            break;
        }
    }
    return result;
}

}  // namespace dermlens::rewards
