#include "dermlens/kb/name_index.h"

#include "kb/names.h"

#include <algorithm>

namespace dermlens::kb {
namespace {

std::vector<std::string> distinct_ids(const std::vector<NameIndex::Claim> & claims) {
    std::vector<std::string> ids;
    for (const auto & claim : claims) {
        if (std::find(ids.begin(), ids.end(), claim.id) == ids.end()) {
            ids.push_back(claim.id);
        }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace

void NameIndex::add(std::string_view text, std::string_view id) {
    const std::string key = normalize_name(text);
    claims_[key].push_back({std::string(id), std::string(text)});
    singulars_[singularize(key)].insert(std::string(id));
}

std::vector<std::string> NameIndex::find(std::string_view normalized) const {
    const std::string singular = singularize(normalized);
    for (const std::string_view key : {normalized, std::string_view(singular)}) {
        if (const auto it = claims_.find(key); it != claims_.end()) {
            return distinct_ids(it->second);
        }
    }
    for (const std::string_view key : {normalized, std::string_view(singular)}) {
        if (const auto it = singulars_.find(key); it != singulars_.end()) {
            return {it->second.begin(), it->second.end()};
        }
    }
    return {};
}

}  // namespace dermlens::kb
