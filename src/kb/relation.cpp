#include "dermlens/kb/relation.h"

#include "kb/names.h"

namespace dermlens::kb {
namespace {

std::string resolve_in(const KnowledgeBase & kb, std::string_view name, std::optional<std::string_view> label_set) {
    return label_set ? kb.resolve(name, *label_set) : kb.resolve(name);
}

std::string name_key(std::string_view name) {
    return singularize(normalize_name(name));
}

// The prediction names the condition exactly when it is written as the truth is
// (up to normalisation) or is the condition's canonical name.
bool names_exactly(const Condition & condition, std::string_view predicted, std::string_view truth) {
    const std::string key = name_key(predicted);
    return key == name_key(truth) || key == name_key(condition.name);
}

}  // namespace

std::string_view relation_name(RelationKind kind) {
    switch (kind) {
        case RelationKind::Exact: return "exact";
        case RelationKind::Synonym: return "synonym";
        case RelationKind::Subclass: return "subclass";
        case RelationKind::Parent: return "parent";
        case RelationKind::Sibling: return "sibling";
        case RelationKind::Unrelated: return "unrelated";
    }
    return "unknown";
}

Relation relation(const KnowledgeBase & kb, std::string_view predicted, std::string_view truth,
                  std::optional<std::string_view> label_set) {
    Relation result;
    result.predicted = resolve_in(kb, predicted, label_set);
    result.truth = resolve_in(kb, truth, label_set);
    const std::string & p = result.predicted;
    const std::string & t = result.truth;
    if (p == t) {
        result.kind = names_exactly(kb.condition(t), predicted, truth) ? RelationKind::Exact : RelationKind::Synonym;
    } else if (kb.is_ancestor(t, p)) {
        result.kind = RelationKind::Subclass;
        result.levels = kb.depth(p) - kb.depth(t);
    } else if (kb.is_ancestor(p, t)) {
        result.kind = RelationKind::Parent;
        result.levels = kb.depth(t) - kb.depth(p);
    } else if (kb.parent(p).has_value() && kb.parent(p) == kb.parent(t)) {
        result.kind = RelationKind::Sibling;
    }
    return result;
}

}  // namespace dermlens::kb
