// KnowledgeBase::resolve: names a person or a dataset uses -> condition ids.
#include "dermlens/kb/knowledge_base.h"

#include "dermlens/error.h"
#include "kb/names.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <utility>
#include <tuple>

namespace dermlens::kb {
namespace {

constexpr std::size_t kSuggestionCount = 3;

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

// The closest claim of each condition in `index` to `key`, added to `best`; a
// claim already there stays unless the new one is closer.
void collect_closest(const NameIndex & index, const std::string & key, std::map<std::string, Suggestion> & best) {
    std::map<std::string, Suggestion> closest;
    for (const auto & [name, claims] : index.claims()) {
        const std::size_t distance = edit_distance(key, name);
        for (const auto & claim : claims) {
            const auto it = closest.find(claim.id);
            const bool closer = it == closest.end() ||
                                std::tie(distance, claim.text) < std::tie(it->second.distance, it->second.text);
            if (closer) {
                closest.insert_or_assign(claim.id, Suggestion{distance, claim.text, claim.id});
            }
        }
    }
    for (auto & [id, suggestion] : closest) {
        const auto it = best.find(id);
        if (it == best.end() || suggestion.distance < it->second.distance) {
            best.insert_or_assign(id, std::move(suggestion));
        }
    }
}

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
// one per condition; empty when nothing is known.
std::string KnowledgeBase::suggestions(const std::string & key) const {
    std::map<std::string, Suggestion> best;
    collect_closest(names_, key, best);  // first: a condition's own names win ties with dataset labels
    collect_closest(labels_, key, best);
    std::vector<Suggestion> ranked;
    for (auto & [id, suggestion] : best) {
        ranked.push_back(std::move(suggestion));
    }
    const std::size_t count = std::min(kSuggestionCount, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(count), ranked.end(),
                      [](const Suggestion & a, const Suggestion & b) {
                          return std::tie(a.distance, a.text, a.id) < std::tie(b.distance, b.text, b.id);
                      });
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < count; ++i) {
        texts.push_back(ranked[i].text);
    }
    return texts.empty() ? "" : fmt::format("; did you mean: {}?", fmt::join(texts, ", "));
}

}  // namespace dermlens::kb
