#include "metrics/graded_diagnosis.h"

#include "dermlens/error.h"
#include "dermlens/kb/relation.h"

#include <algorithm>

namespace dermlens::metrics {
namespace {

// The condition `name` resolves to; none for a name the knowledge base does not know (find) or rejects as
// ambiguous or without letters (its InvalidArgument).
std::optional<std::string> resolved(const kb::KnowledgeBase & kb, const std::string & name,
                                    const std::string & label_set) {
    try {
        return label_set.empty() ? kb.find(name) : kb.find(name, label_set);
    } catch (const Error & error) {
        if (error.kind() != ErrorKind::InvalidArgument) {
            throw;
        }
        return std::nullopt;
    }
}

Grade parent_grade(const kb::KnowledgeBase & kb, const kb::Relation & relation) {
    constexpr std::size_t kTopLevelDepth = 1;  // the categories right below the root
    const bool close = relation.levels <= kAcceptableParentLevels;
    const bool specific = kb.depth(relation.predicted) > kTopLevelDepth;
    return close && specific ? Grade::AcceptableParent : Grade::UnacceptableParent;
}

Grade grade_of(const kb::KnowledgeBase & kb, const kb::Relation & relation) {
    switch (relation.kind) {
        case kb::RelationKind::Exact: return Grade::Exact;
        case kb::RelationKind::Synonym: return Grade::Synonym;
        case kb::RelationKind::Subclass: return Grade::Subclass;
        case kb::RelationKind::Parent: return parent_grade(kb, relation);
        case kb::RelationKind::Sibling: return Grade::Sibling;
        case kb::RelationKind::Unrelated: return Grade::Unrelated;
    }
    return Grade::Unrelated;
}

}  // namespace

std::string_view grade_name(Grade grade) noexcept {
    switch (grade) {
        case Grade::Exact: return "exact";
        case Grade::Synonym: return "synonym";
        case Grade::Subclass: return "subclass";
        case Grade::AcceptableParent: return "acceptable_parent";
        case Grade::UnacceptableParent: return "unacceptable_parent";
        case Grade::Sibling: return "sibling";
        case Grade::Unrelated: return "unrelated";
    }
    return "unknown";
}

bool is_correct(Grade grade) noexcept {
    return grade == Grade::Exact || grade == Grade::Synonym || grade == Grade::Subclass ||
           grade == Grade::AcceptableParent;
}

GradedDiagnosis grade_diagnosis(const kb::KnowledgeBase & kb, const std::string & predicted, const std::string & truth,
                                const std::string & label_set) {
    GradedDiagnosis graded{predicted, resolved(kb, predicted, label_set), Grade::Unrelated};
    if (graded.condition) {
        const auto within = label_set.empty() ? std::nullopt : std::optional<std::string_view>(label_set);
        graded.grade = grade_of(kb, kb::relation(kb, predicted, truth, within));
    }
    return graded;
}

std::optional<std::size_t> first_correct_rank(const std::vector<GradedDiagnosis> & ranked) {
    const auto correct =
        std::find_if(ranked.begin(), ranked.end(), [](const GradedDiagnosis & d) { return is_correct(d.grade); });
    if (correct == ranked.end()) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(correct - ranked.begin()) + 1;
}

}  // namespace dermlens::metrics
