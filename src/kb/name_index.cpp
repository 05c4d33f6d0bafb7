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

// Whether `a` becomes `b` by at most one edit: a byte inserted, deleted or substituted, or two
// neighbouring bytes swapped.
bool within_one_edit(std::string_view a, std::string_view b) {
    if (a.size() > b.size()) {
        std::swap(a, b);
    }
    if (b.size() - a.size() > 1) {
        return false;
    }
    std::size_t i = 0;
    while (i < a.size() && a[i] == b[i]) {
        ++i;
    }
    if (i == a.size()) {
        return true;  // equal, or b has one more byte at the end
    }
    if (a.size() < b.size()) {
        return a.substr(i) == b.substr(i + 1);  // b has one more byte at i
    }
    if (a.substr(i + 1) == b.substr(i + 1)) {
        return true;  // one byte substituted
    }
    return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] && a.substr(i + 2) == b.substr(i + 2);
}

// `key` without its byte at each position (positions with the same byte give the same string once).
std::vector<std::string> one_byte_deletions(std::string_view key) {
    std::vector<std::string> deletions;
    for (std::size_t i = 0; i < key.size(); ++i) {
        if (i > 0 && key[i] == key[i - 1]) {
            continue;
        }
        std::string deleted(key.substr(0, i));
        deleted.append(key.substr(i + 1));
        deletions.push_back(std::move(deleted));
    }
    return deletions;
}

}  // namespace

void NameIndex::add(std::string_view text, std::string_view id) {
    const std::string key = normalize_name(text);
    auto & claims = claims_[key];
    if (claims.empty()) {
        index_deletions(key);
    }
    claims.push_back({std::string(id), std::string(text)});
    singulars_[singularize(key)].insert(std::string(id));
}

void NameIndex::index_deletions(const std::string & key) {
    if (key.size() < kTypoMinLength) {
        return;
    }
    const auto position = static_cast<std::uint32_t>(typo_keys_.size());
    typo_keys_.push_back(key);
    longest_typo_key_ = std::max(longest_typo_key_, key.size());
    deletions_[key].push_back(position);
    for (std::string & deleted : one_byte_deletions(key)) {
        deletions_[std::move(deleted)].push_back(position);
    }
}

std::vector<std::string> NameIndex::find_one_typo_away(std::string_view normalized) const {
    // Beyond one byte longer than every indexed name, nothing is one edit away; the deletions of a
    // longer name would cost its length squared.
    if (normalized.size() < kTypoMinLength || normalized.size() > longest_typo_key_ + 1) {
        return {};
    }
    std::vector<std::string> variants = one_byte_deletions(normalized);
    variants.emplace_back(normalized);
    std::vector<std::string> ids;
    for (const std::string & variant : variants) {
        const auto it = deletions_.find(variant);
        if (it == deletions_.end()) {
            continue;
        }
        for (const std::uint32_t position : it->second) {
            const std::string & key = typo_keys_[position];
            if (!within_one_edit(normalized, key)) {
                continue;
            }
            for (const auto & claim : claims_.find(key)->second) {
                if (std::find(ids.begin(), ids.end(), claim.id) == ids.end()) {
                    ids.push_back(claim.id);
                }
            }
        }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
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
