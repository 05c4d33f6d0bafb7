// Differential-diagnosis pairing with taxonomy fallbacks: ResolveDDXNeighbor,
// algorithm 4 of paper 002 (Skin-R1, appendix B).
#pragma once

#include "dermlens/kb/knowledge_base.h"

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace dermlens::kb {

using ConditionSet = std::set<std::string, std::less<>>;

// A condition to pair with diagnosis `id` as its differential, among the conditions
// that have cases (`with_cases`), or std::nullopt:
//   1. the candidates are the DDx neighbours of `id`; when it has none, those of its
//      taxonomy parent; when that has none either, there is no answer;
//   2. for each candidate in order (sorted ids): the candidate itself when it has
//      cases, else its nearest subclass with cases (see ddx.cpp).
std::optional<std::string> resolve_ddx_neighbor(const KnowledgeBase & kb, std::string_view id,
                                                const ConditionSet & with_cases);

}  // namespace dermlens::kb
