// A lookup from normalised names (kb/names.h) to the condition ids that claim them.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
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

    // Normalised name -> every claim on it, in the order added.
    const std::map<std::string, std::vector<Claim>, std::less<>> & claims() const { return claims_; }

private:
    std::map<std::string, std::vector<Claim>, std::less<>> claims_;
    std::map<std::string, std::set<std::string, std::less<>>, std::less<>> singulars_;
};

}  // namespace dermlens::kb
