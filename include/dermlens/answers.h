// Reading and grading a model's answers without a model: what a reward function, a trainer or
// a web handler needs from dermlens, built on the knowledge base and text code only (CMake
// target dermlens_text links no llama.cpp). The rules are the pipeline's own: an answer that
// does not name exactly one option is unparseable, never guessed (paper 002's strict letters),
// and a free diagnosis is graded clinically against the truth through the taxonomy (paper 003
// section 4.1.4: exact, synonym, subclass and a close parent are correct).
#pragma once

#include "dermlens/kb.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens {

struct ParsedChoice {
    std::string status;                 // "letter" | "label_name" | "synonym" | "unparseable"
    std::optional<std::size_t> option;  // index into the labels; labels.size() for the "not sure" option
    std::string answer_text;            // what was read: the reply, or the style's answer part of it
    std::string problem;                // why it is unparseable; empty otherwise
};

// The option a free reply chose among `labels`, shown as lettered options A, B, ... in the
// prompt of `style` ("dermlens", "skinvl", "skin-r1", "skinflow"), with the "not sure" option
// last when `not_sure_option`. With a knowledge base, a name or synonym of an option's condition
// counts ("shingles" for "herpes zoster"). Throws Error(InvalidArgument) naming the field for a
// bad style or fewer than 2 labels.
ParsedChoice parse_choice(std::string_view reply, const std::vector<std::string> & labels,
                          std::string_view style = "dermlens", bool not_sure_option = false,
                          const kb::KnowledgeBase * kb = nullptr);

// The diseases of a SkinFlow reply, <answer>{"topK_diseases": [{"disease": "…"}, …]}</answer>,
// most likely first; empty with `problem` set when the reply lists none.
struct SkinFlowDiseases {
    std::vector<std::string> names;
    std::string problem;
};
SkinFlowDiseases parse_skinflow_diseases(std::string_view reply);

struct GradedDiagnosis {
    std::string name;                      // as the model wrote it
    std::optional<std::string> condition;  // the condition it names; none when the knowledge base cannot tell
    std::string grade;    // exact | synonym | subclass | acceptable_parent | unacceptable_parent | sibling | unrelated
    bool correct = false;  // exact, synonym, subclass, acceptable parent
};

// Grades the name `predicted` against the label `truth` of `label_set` (both resolved through
// the label set first, then by the knowledge base's names).
GradedDiagnosis grade_diagnosis(const kb::KnowledgeBase & kb, const std::string & predicted, const std::string & truth,
                                const std::string & label_set);

}  // namespace dermlens
