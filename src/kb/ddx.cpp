#include "dermlens/kb/ddx.h"

#include <vector>

namespace dermlens::kb {
namespace {

// Algorithm 4, lines 4-13: the neighbours of d, else those of its parent.
const std::vector<std::string> * candidates(const KnowledgeBase & kb, std::string_view id) {
    if (const auto & own = kb.neighbours(id); !own.empty()) {
        return &own;
    }
    const auto parent = kb.parent(id);
    if (!parent || kb.neighbours(*parent).empty()) {
        return nullptr;
    }
    return &kb.neighbours(*parent);
}

}  // namespace

// Lines 14-24: each candidate c in turn, c itself first, then a subclass of c with
// cases, before the next candidate. Where this goes beyond the pseudo-code:
// - line 18 takes only c's children, while the text says the algorithm "recursively
//   examines the taxonomy children of c"; we search all of c's descendants
//   breadth-first, so the children come first and the result equals the
//   pseudo-code's whenever a child has cases;
// - line 20 returns "any" child with cases; we return the first in breadth-first,
//   sorted-id order, so the answer is deterministic;
// - d itself is never returned (it could be a descendant of a candidate): a
//   diagnosis is no differential of itself.
std::optional<std::string> resolve_ddx_neighbor(const KnowledgeBase & kb, std::string_view id,
                                                const ConditionSet & with_cases) {
    const std::vector<std::string> * pool = candidates(kb, id);
    if (pool == nullptr) {
        return std::nullopt;
    }
    const auto usable = [&](const std::string & c) { return c != id && with_cases.contains(c); };
    for (const auto & candidate : *pool) {
        if (usable(candidate)) {
            return candidate;
        }
        for (const auto & subclass : kb.descendants(candidate)) {
            if (usable(subclass)) {
                return subclass;
            }
        }
    }
    return std::nullopt;
}

}  // namespace dermlens::kb
