// How a predicted diagnosis relates to the true one in the taxonomy: the outcomes
// of SkinFlow's clinically graded evaluation (paper 003, section 4.1.4).
#pragma once

#include "dermlens/kb/knowledge_base.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dermlens::kb {

enum class RelationKind {
    Exact,      // the same condition, named as the truth is or by its canonical name
    Synonym,    // the same condition under another name (shingles for herpes zoster)
    Subclass,   // the prediction is a descendant of the truth: more specific
    Parent,     // the prediction is an ancestor of the truth: coarser
    Sibling,    // the prediction shares the truth's parent
    Unrelated,  // none of the above
};

// "exact", "synonym", "subclass", "parent", "sibling", "unrelated".
std::string_view relation_name(RelationKind kind);

struct Relation {
    RelationKind kind = RelationKind::Unrelated;
    std::string predicted;  // resolved condition ids
    std::string truth;
    std::size_t levels = 0;  // Subclass: levels below the truth; Parent: levels above it; else 0
};

// Resolves both names (through `label_set` first when given) and relates them.
Relation relation(const KnowledgeBase & kb, std::string_view predicted, std::string_view truth,
                  std::optional<std::string_view> label_set = std::nullopt);

}  // namespace dermlens::kb
