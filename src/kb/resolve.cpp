// KnowledgeBase::resolve: names a person or a dataset uses -> condition ids.
#include "dermlens/kb/knowledge_base.h"

#include "dermlens/error.h"
#include "kb/names.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace dermlens::kb {
namespace {

constexpr std::size_t kSuggestionCount = 3;
// Twice the longest name of the shipped knowledge base (66 bytes): a longer key is text, not a
// misspelt name, and its distances to every name would cost a scan in proportion to its length.
constexpr std::size_t kMaxSuggestedKeyLength = 128;

std::string normalized_query(std::string_view name) {
    std::string key = normalize_name(name);
    if (key.empty()) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("condition name '{}' has no letters or digits", name));
    }
    return key;
}

struct Suggestion {
    std::size_t distance;
    std::string text;
    std::string id;
};

// The known names closest to one query, the closest claim of each condition, found by a scan of
// every indexed name in which each distance is bounded by that of the kSuggestionCount-th closest
// condition so far: a name further than that can change neither which conditions are suggested
// nor their texts, and its distance costs little to rule out (EditDistanceFrom::within). The
// suggestions are those of an unbounded scan.
class ClosestNames {
public:
    explicit ClosestNames(const std::string & key) : distance_(key) {}

    // The closest claim of each condition in `index`, kept where the condition has none yet or
    // only a further one from an earlier index (an earlier index wins ties).
    void scan(const NameIndex & index) {
        std::map<std::string, Suggestion> closest;
        for (const auto & [name, claims] : index.claims()) {
            const std::size_t distance = distance_.within(name, limit());
            if (distance > limit()) {
                continue;
            }
            for (const auto & claim : claims) {
                const auto it = closest.find(claim.id);
                const bool closer = it == closest.end() ||
                                    std::tie(distance, claim.text) < std::tie(it->second.distance, it->second.text);
                if (closer) {
                    note_distance(claim.id, distance);
                    closest.insert_or_assign(claim.id, Suggestion{distance, claim.text, claim.id});
                }
            }
        }
        for (auto & [id, suggestion] : closest) {
            const auto it = best_.find(id);
            if (it == best_.end() || suggestion.distance < it->second.distance) {
                best_.insert_or_assign(id, std::move(suggestion));
            }
        }
    }

    // The kSuggestionCount closest, by distance, then text, then id.
    std::vector<Suggestion> ranked() && {
        std::vector<Suggestion> ranked;
        for (auto & [id, suggestion] : best_) {
            ranked.push_back(std::move(suggestion));
        }
        const std::size_t count = std::min(kSuggestionCount, ranked.size());
        std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(count), ranked.end(),
                          [](const Suggestion & a, const Suggestion & b) {
                              return std::tie(a.distance, a.text, a.id) < std::tie(b.distance, b.text, b.id);
                          });
        ranked.resize(count);
        return ranked;
    }

private:
    // The distance beyond which a name cannot be suggested: that of the kSuggestionCount-th
    // closest condition so far (a condition's distance only ever decreases).
    std::size_t limit() const {
        if (distances_.size() < kSuggestionCount) {
            return std::numeric_limits<std::size_t>::max() - 1;
        }
        return *std::next(distances_.begin(), static_cast<std::ptrdiff_t>(kSuggestionCount - 1));
    }

    // Condition `id` has a claim at `distance`.
    void note_distance(const std::string & id, std::size_t distance) {
        const auto [it, added] = condition_distance_.try_emplace(id, distance);
        if (!added) {
            if (distance >= it->second) {
                return;
            }
            distances_.erase(distances_.find(it->second));
            it->second = distance;
        }
        distances_.insert(distance);
    }

    EditDistanceFrom distance_;
    std::map<std::string, Suggestion> best_;                 // the indexes scanned so far
    std::map<std::string, std::size_t> condition_distance_;  // each condition's closest claim so far
    std::multiset<std::size_t> distances_;                   // the values of condition_distance_
};

// The one id `index` has for `key`; std::nullopt for none; throws when several conditions claim it.
std::optional<std::string> unique_match(const NameIndex & index, const std::string & key, std::string_view name,
                                        std::string_view where) {
    const std::vector<std::string> ids = index.find(key);
    if (ids.empty()) {
        return std::nullopt;
    }
    if (ids.size() > 1) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("condition name '{}' is ambiguous{}: it may mean {}", name,
                                                            where, fmt::join(ids, ", ")));
    }
    return ids.front();
}

// "ICD11:2C30", "icd-11 2C30" -> ("ICD11", "2C30"); a bare code -> its system by its shape;
// std::nullopt for text that is no code.
std::optional<std::pair<std::string, std::string>> parse_code(std::string_view text) {
    std::string upper;
    for (const char c : text) {
        if (c != ' ' && c != '-') {
            upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
    }
    for (const std::string_view system : {"ICD11", "ICD10"}) {
        if (upper.starts_with(system)) {
            const std::size_t skip = system.size() + (upper.size() > system.size() && upper[system.size()] == ':');
            return std::pair{std::string(system), upper.substr(skip)};
        }
    }
    if (is_icd11_code(upper)) {
        return std::pair{std::string("ICD11"), upper};
    }
    if (is_icd10_code(upper)) {
        return std::pair{std::string("ICD10"), upper};
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> KnowledgeBase::find_code(std::string_view code) const {
    const auto parsed = parse_code(code);
    if (!parsed) {
        return std::nullopt;
    }
    const auto it = codes_.find(parsed->first + ":" + parsed->second);
    return it == codes_.end() ? std::nullopt : std::optional<std::string>(code_owner(it->first, it->second));
}

std::optional<std::string> KnowledgeBase::find(std::string_view name) const {
    const std::string key = normalized_query(name);
    if (auto id = unique_match(names_, key, name, "")) {
        return id;
    }
    if (auto id = unique_match(labels_, key, name, " as a label of several label sets (name the label set)")) {
        return id;
    }
    if (auto id = find_code(name)) {
        return id;
    }
    if (const auto ids = names_.find_one_typo_away(key); ids.size() == 1) {
        return ids.front();
    }
    return std::nullopt;
}

std::string KnowledgeBase::resolve(std::string_view name) const {
    if (auto id = find(name)) {
        return *id;
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("unknown condition '{}'{}", name, suggestions(normalized_query(name))));
}

std::optional<std::string> KnowledgeBase::find(std::string_view name, std::string_view label_set) const {
    this->label_set(label_set);  // refuses unknown label sets
    const std::string key = normalized_query(name);
    const auto own = set_labels_.find(label_set);
    if (auto id = unique_match(own->second, key, name, fmt::format(" in label set '{}'", label_set))) {
        return id;
    }
    return find(name);
}

std::string KnowledgeBase::resolve(std::string_view name, std::string_view label_set) const {
    if (auto id = find(name, label_set)) {
        return *id;
    }
    return resolve(name);  // the error, with suggestions
}

// "; did you mean: a, b, c?" with the known names closest to `key` by edit distance,
// one per condition; empty when nothing is known or the key is too long to be a misspelt name.
std::string KnowledgeBase::suggestions(const std::string & key) const {
    if (key.size() > kMaxSuggestedKeyLength) {
        return "";
    }
    ClosestNames closest(key);
    closest.scan(names_);  // first: a condition's own names win ties with dataset labels
    closest.scan(labels_);
    std::vector<std::string> texts;
    for (const Suggestion & suggestion : std::move(closest).ranked()) {
        texts.push_back(suggestion.text);
    }
    return texts.empty() ? "" : fmt::format("; did you mean: {}?", fmt::join(texts, ", "));
}

}  // namespace dermlens::kb
