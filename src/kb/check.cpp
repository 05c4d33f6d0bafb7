// KnowledgeBase::check: how the records fit together (docs/kb-schema.md).
#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"

#include "kb/codes.h"
#include "kb/names.h"

#include <fmt/format.h>

#include <algorithm>

namespace dermlens::kb {
namespace {

constexpr std::string_view kRootId = "skin_condition";

// "a -> b -> c -> a", starting from the smallest id so each cycle reads the same way.
std::string describe_cycle(std::vector<std::string> cycle) {
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
    cycle.push_back(cycle.front());
    return fmt::format("{}", fmt::join(cycle, " -> "));
}

// Two labels of a set map to one condition only when all but one of them say so (same_condition_as
// naming another label of that condition): otherwise it is a slip that merges two classes.
template <typename Report>
void check_shared_conditions(const LabelSet & set, const Report & report) {
    std::map<std::string, std::vector<const Label *>, std::less<>> by_condition;
    for (const Label & label : set.labels) {
        by_condition[label.condition].push_back(&label);
    }
    for (const auto & [condition, labels] : by_condition) {
        const Label * plain = nullptr;
        for (const Label * label : labels) {
            if (label->same_condition_as.empty()) {
                if (plain != nullptr) {
                    report(fmt::format("labels '{}' and '{}' both map to '{}' (say same_condition_as if that is meant)",
                                       plain->label, label->label, condition));
                }
                plain = label;
                continue;
            }
            const bool names_another = std::any_of(labels.begin(), labels.end(), [&](const Label * other) {
                return other != label && other->label == label->same_condition_as;
            });
            if (!names_another) {
                report(fmt::format("label '{}': same_condition_as '{}' is not another label of the set mapping to '{}'",
                                   label->label, label->same_condition_as, condition));
            }
        }
    }
}

}  // namespace

std::vector<Problem> KnowledgeBase::check() const {
    std::vector<Problem> problems = load_problems_;
    check_roots(problems);
    check_parents(problems);
    check_id_spelling(problems);
    check_names(problems);
    check_codes(problems);
    check_edges(problems);
    check_described_neighbours(problems);
    for (const auto & [name, set] : label_sets_) {
        check_label_set(set, problems);
    }
    return problems;
}

void KnowledgeBase::check_roots(std::vector<Problem> & problems) const {
    std::vector<const Condition *> roots;
    for (const auto & [id, condition] : conditions_) {
        if (condition.parent.empty()) {
            roots.push_back(&condition);
        }
    }
    if (conditions_.empty()) {
        problems.push_back({{}, "no conditions"});
        return;
    }
    if (roots.empty()) {
        problems.push_back({{}, fmt::format("no root: every condition has a parent (the root is '{}')", kRootId)});
        return;
    }
    // The schema's root keeps its place; any other parentless node is the problem.
    const auto named_root =
        std::find_if(roots.begin(), roots.end(), [](const Condition * c) { return c->id == kRootId; });
    const Condition * root = named_root != roots.end() ? *named_root : roots.front();
    for (const Condition * other : roots) {
        if (other != root) {
            problems.push_back({other->file, fmt::format("condition '{}' has no parent, but '{}' is already the root "
                                                         "(the taxonomy is one tree)",
                                                         other->id, root->id)});
        }
    }
}

void KnowledgeBase::check_parents(std::vector<Problem> & problems) const {
    std::set<std::string, std::less<>> settled;
    for (const auto & [id, condition] : conditions_) {
        if (!condition.parent.empty() && !contains(condition.parent)) {
            problems.push_back({condition.file, fmt::format("condition '{}': parent '{}' is not a condition", id,
                                                            condition.parent)});
        }
        // Walk up until a node already settled, the root, a dangling parent or a node of this walk (a cycle).
        std::vector<std::string> walk;
        const Condition * node = &condition;
        while (!settled.contains(node->id)) {
            if (const auto seen = std::find(walk.begin(), walk.end(), node->id); seen != walk.end()) {
                const std::vector<std::string> cycle(seen, walk.end());
                const Condition & first = conditions_.find(*std::min_element(cycle.begin(), cycle.end()))->second;
                problems.push_back({first.file, fmt::format("conditions {} form a cycle of parents",
                                                            describe_cycle(cycle))});
                break;
            }
            walk.push_back(node->id);
            const auto up = conditions_.find(node->parent);
            if (up == conditions_.end()) {
                break;
            }
            node = &up->second;
        }
        settled.insert(walk.begin(), walk.end());
    }
}

// The schema's ids are American English: "nevus", not "naevus".
void KnowledgeBase::check_id_spelling(std::vector<Problem> & problems) const {
    for (const auto & [id, condition] : conditions_) {
        std::string american = normalize_name(id);
        std::replace(american.begin(), american.end(), ' ', '_');
        if (american != id) {
            problems.push_back({condition.file, fmt::format("condition '{}': the id is not in American spelling "
                                                            "(expected '{}')",
                                                            id, american)});
        }
    }
}

// A normalised name claimed by two conditions would resolve to neither.
void KnowledgeBase::check_names(std::vector<Problem> & problems) const {
    for (const auto & [key, claims] : names_.claims()) {
        const NameIndex::Claim & owner = claims.front();
        std::set<std::string, std::less<>> reported{owner.id};
        for (const auto & claim : claims) {
            if (reported.insert(claim.id).second) {
                const Condition & first = conditions_.find(owner.id)->second;
                problems.push_back({conditions_.find(claim.id)->second.file,
                                    fmt::format("condition '{}': name '{}' is already claimed by condition '{}' "
                                                "(as '{}', in {})",
                                                claim.id, claim.text, owner.id, owner.text, first.file.string())});
            }
        }
    }
}

// check_parents reports a broken chain of parents; until it is mended, assume the ancestry holds.
bool KnowledgeBase::is_ancestor_if_known(std::string_view ancestor, std::string_view id) const {
    try {
        return is_ancestor(ancestor, id);
    } catch (const Error &) {
        return true;
    }
}

// An exact code identifies one condition, so two exact claims identify neither. A broader code may
// be shared (siblings filed under one "other specified" category), but where some condition is the
// code exactly, only its descendants may record it as broader.
void KnowledgeBase::check_codes(std::vector<Problem> & problems) const {
    for (const auto & [code, ids] : codes_) {
        const std::string & owner = ids.front();
        const bool owned = recorded_match(conditions_.find(owner)->second, code) == CodeMatch::Exact;
        for (std::size_t i = 1; i < ids.size(); ++i) {
            const Condition & claim = conditions_.find(ids[i])->second;
            if (recorded_match(claim, code) == CodeMatch::Exact) {
                problems.push_back({claim.file, fmt::format("condition '{}': code {} is already recorded on condition "
                                                            "'{}'",
                                                            claim.id, code, owner)});
            } else if (owned && !is_ancestor_if_known(owner, claim.id)) {
                problems.push_back({claim.file, fmt::format("condition '{}': broader code {} is condition '{}' "
                                                            "exactly, which is not an ancestor of it",
                                                            claim.id, code, owner)});
            }
        }
    }
}

void KnowledgeBase::check_edges(std::vector<Problem> & problems) const {
    for (const auto & edge : edges_) {
        const std::string where = fmt::format("edges[{}] ['{}', '{}']", edge.index, edge.first, edge.second);
        if (edge.first == edge.second) {
            problems.push_back({edge.file, fmt::format("{}: links a condition to itself", where)});
        }
        for (const auto & end : {edge.first, edge.second}) {
            if (!contains(end)) {
                problems.push_back({edge.file, fmt::format("{}: '{}' is not a condition", where, end)});
            }
        }
    }
}

void KnowledgeBase::check_described_neighbours(std::vector<Problem> & problems) const {
    for (const auto & [id, condition] : conditions_) {
        const auto count = neighbours(id).size();
        if (condition.description && count < 2) {
            problems.push_back({condition.file, fmt::format("condition '{}' has a description but {} DDx neighbour{}; "
                                                            "a described condition needs at least 2",
                                                            id, count, count == 1 ? "" : "s")});
        }
    }
}

void KnowledgeBase::check_label_set(const LabelSet & set, std::vector<Problem> & problems) const {
    const auto report = [&](std::string message) {
        problems.push_back({set.file, fmt::format("label set '{}': {}", set.name, message)});
    };
    if (set.labels.empty()) {
        report("has no labels");
    }
    check_shared_conditions(set, report);
    std::map<std::string, std::string, std::less<>> label_of_key;
    for (const Label & entry : set.labels) {
        const std::string & label = entry.label;
        const std::string & id = entry.condition;
        if (const auto [first, fresh] = label_of_key.emplace(normalize_name(label), label); !fresh) {
            report(fmt::format("label '{}' repeats label '{}'", label, first->second));
        }
        const auto condition = conditions_.find(id);
        if (condition == conditions_.end()) {
            report(fmt::format("label '{}' maps to '{}', which is not a condition", label, id));
        } else if (set.described && !condition->second.description) {
            report(fmt::format("label '{}' maps to '{}', which has no description (the set is described)", label, id));
        }
    }
}

}  // namespace dermlens::kb
