// The rewards by name, and a score as the JSON VERL's compute_score returns.
#include "dermlens/error.h"
#include "dermlens/rewards.h"

#include <fmt/format.h>

namespace dermlens::rewards {

nlohmann::json to_json(const RewardScore & score) {
    nlohmann::json json = {{"score", score.score}};
    for (const auto & [name, value] : score.parts) {
        json[name] = value;
    }
    return json;
}

RewardScore score(const kb::KnowledgeBase & kb, std::string_view reward, std::string_view completion,
                  const nlohmann::json & item) {
    if (reward == "skinr1") {
        return score_skinr1(kb, completion, item);
    }
    if (reward == "skinflow-topk") {
        return score_skinflow_topk(kb, completion, item);
    }
    if (reward == "skinflow-caption") {
        return score_skinflow_caption(completion, item);
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("reward '{}': must be skinr1, skinflow-topk or skinflow-caption", reward), "reward");
}

}  // namespace dermlens::rewards
