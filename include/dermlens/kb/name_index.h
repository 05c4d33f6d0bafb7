// A lookup from normalised names (kb/names.h) to the condition ids that claim them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dermlens::kb {

class NameIndex {
public:
    struct Claim {
        std::string id;
        std::string text;  // the name as written in the files
    };

    // Indexes `text` under its normalised form and under that form's singular.
    void add(std::string_view text, std::string_view id);

    // The ids claiming a normalised name, from the first of these steps that matches:
    // the name against the indexed names, the name singularised against them, then the
    // same two against the singulars of the indexed names ("wart" finds "warts").
    // Indexing the singulars beside the names keeps names that only look plural
    // ("psoriasis", "scabies") reachable as written. Empty when nothing matches;
    // several ids when the match is ambiguous.
    std::vector<std::string> find(std::string_view normalized) const;

    // The ids claiming the indexed names one typo away from a normalised name (a byte
    // added, dropped or changed, or two neighbours swapped). Only names of at least
    // kTypoMinLength bytes take part: shorter ones (BCC, SCC, NV) are one typo apart.
    // Found through the names' one-byte deletions (symmetric-delete lookup), so a
    // query costs one hash lookup per byte of the name, not a scan of every name.
    std::vector<std::string> find_one_typo_away(std::string_view normalized) const;

    // Normalised name -> every claim on it, in the order added.
    const std::map<std::string, std::vector<Claim>, std::less<>> & claims() const { return claims_; }

    static constexpr std::size_t kTypoMinLength = 8;

private:
    void index_deletions(const std::string & key);

    std::map<std::string, std::vector<Claim>, std::less<>> claims_;
    // Each indexed name long enough for typos, and each of its one-byte deletions -> the names (as
    // positions in typo_keys_) it comes from.
    std::vector<std::string> typo_keys_;
    std::size_t longest_typo_key_ = 0;
    std::unordered_map<std::string, std::vector<std::uint32_t>> deletions_;
    std::map<std::string, std::set<std::string, std::less<>>, std::less<>> singulars_;
};

}  // namespace dermlens::kb
