// The clinical-code index: which conditions record each ICD-11 and ICD-10 code, and which one a
// code identifies (docs/kb-schema.md, "Codes").
#include "kb/codes.h"

#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace dermlens::kb {

CodeMatch recorded_match(const Condition & condition, std::string_view key) {
    return key.starts_with("ICD11:") ? condition.icd11_match : condition.icd10_match;
}

void KnowledgeBase::index_codes() {
    for (const auto & [id, condition] : conditions_) {
        if (!condition.icd11.empty()) {
            codes_["ICD11:" + condition.icd11].push_back(id);
        }
        if (!condition.icd10.empty()) {
            codes_["ICD10:" + condition.icd10].push_back(id);
        }
    }
    // The exact holders first: the condition a code identifies is the front (code_owner, check()).
    for (auto & [key, ids] : codes_) {
        std::stable_partition(ids.begin(), ids.end(), [&](const std::string & id) {
            return recorded_match(conditions_.find(id)->second, key) == CodeMatch::Exact;
        });
    }
}

// A broader code shared by several conditions names none of them: the caller has to choose.
std::string KnowledgeBase::code_owner(std::string_view key, const std::vector<std::string> & ids) const {
    if (ids.size() == 1 || recorded_match(conditions_.find(ids.front())->second, key) == CodeMatch::Exact) {
        return ids.front();
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("code {} is a broader category recorded on several conditions: {} (name one of them)",
                            key, fmt::join(ids, ", ")));
}

}  // namespace dermlens::kb
