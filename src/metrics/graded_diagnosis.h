// Paper 003's clinically graded correctness of an open-vocabulary diagnosis (section 4.1.4),
// from the knowledge base's relation of the named condition to the truth (kb/relation.h):
// the truth itself, named exactly or by a synonym, is correct; so is a subclass (more
// specific, therapeutically consistent) and a close parent that keeps clinical value. A
// parent too broad to guide treatment ("dermatitis", "skin cancer"), a sibling and anything
// else are wrong. The paper leaves "close" to a clinician per case; here an acceptable parent
// is at most kAcceptableParentLevels above the truth and neither the root nor one of the
// top-level categories right below it (melanocytic lesion, inflammatory dermatosis, …).
#pragma once

#include "dermlens/kb/knowledge_base.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::metrics {

enum class Grade { Exact, Synonym, Subclass, AcceptableParent, UnacceptableParent, Sibling, Unrelated };

// Every grade, in the order reports list them.
inline constexpr std::array kGrades{Grade::Exact,  Grade::Synonym,   Grade::Subclass, Grade::AcceptableParent,
                                    Grade::UnacceptableParent, Grade::Sibling, Grade::Unrelated};

// "exact", "synonym", "subclass", "acceptable_parent", "unacceptable_parent", "sibling", "unrelated".
std::string_view grade_name(Grade grade) noexcept;
bool is_correct(Grade grade) noexcept;  // exact, synonym, subclass, acceptable parent

// The direct parent only: "melanoma" for superficial spreading melanoma, not "malignant
// melanocytic lesion" two levels up.
inline constexpr std::size_t kAcceptableParentLevels = 1;

struct GradedDiagnosis {
    std::string name;                      // as the model wrote it
    std::optional<std::string> condition;  // the condition id it names; none when the knowledge base cannot tell
    Grade grade = Grade::Unrelated;
};

// Grades the name `predicted` against the label `truth` of `label_set`, both resolved through
// the label set first (by the knowledge base's names alone when `label_set` is empty). A name the knowledge base does not know or finds ambiguous is unrelated.
GradedDiagnosis grade_diagnosis(const kb::KnowledgeBase & kb, const std::string & predicted, const std::string & truth,
                                const std::string & label_set);

// The rank (1 = the first) of the first correct diagnosis; none when no diagnosis is correct.
std::optional<std::size_t> first_correct_rank(const std::vector<GradedDiagnosis> & ranked);

}  // namespace dermlens::metrics
