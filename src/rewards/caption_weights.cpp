#include "rewards/caption_weights.h"

#include "dermlens/error.h"
#include "pipeline/description.h"
#include "rewards/tags.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace dermlens::rewards {
namespace {

// The top-K list of one completion; empty when it has none.
nlohmann::json topk_list(const std::string & completion) {
    const auto answer = tagged_block(completion, "answer");
    if (!answer) {
        return nlohmann::json::array();
    }
    const auto json = nlohmann::json::parse(*answer, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
    if (!json.is_object()) {
        return nlohmann::json::array();
    }
    const auto list = std::find_if(json.begin(), json.end(), [](const auto & value) { return value.is_array(); });
    return list == json.end() ? nlohmann::json::array() : *list;
}

}  // namespace

FieldCitations caption_weights_from_topk(const std::vector<std::string> & completions) {
    const auto & fields = pipeline::description_fields(pipeline::DescriptionSchema::SkinFlow);
    FieldCitations result;
    for (const auto & field : fields) {
        result.counts[field] = 0;
    }
    std::size_t cited = 0;
    for (const auto & completion : completions) {
        const nlohmann::json list = topk_list(completion);
        result.answers += list.empty() ? 0 : 1;
        for (const auto & entry : list) {
            if (!entry.is_object() || !entry.contains("key_matching_fields") || !entry["key_matching_fields"].is_array()) {
                continue;
            }
            for (const auto & field : entry["key_matching_fields"]) {
                if (field.is_string() && result.counts.contains(field.get<std::string>())) {
                    ++result.counts[field.get<std::string>()];
                    ++cited;
                }
            }
        }
    }
    if (cited == 0) {
        throw Error(ErrorKind::InvalidInput, "completions: no top-K answer cites a caption field in key_matching_fields");
    }
    const double total = static_cast<double>(cited + fields.size());
    for (const auto & [field, count] : result.counts) {
        result.weights[field] = static_cast<double>(count + 1) / total;
    }
    return result;
}

}  // namespace dermlens::rewards
