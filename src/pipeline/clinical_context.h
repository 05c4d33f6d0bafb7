// Optional clinical context for the prompt (--age --sex --site --history --fitzpatrick,
// or manifest columns): paper 004's benchmark-to-bedside gap is partly the context a
// clinician has and an image lacks.
#pragma once

#include <optional>
#include <string>

namespace dermlens::pipeline {

struct ClinicalContext {
    std::optional<int> age;          // years, 0..120
    std::string sex;                 // "female" | "male" | "other" (any case), or empty
    std::string site;                // body site of the lesion, free text
    std::string history;             // free text
    std::optional<int> fitzpatrick;  // skin type 1..6

    bool empty() const;

    // Throws Error(InvalidArgument) naming the field and the value: age outside 0..120,
    // Fitzpatrick type outside 1..6, another sex, or site / history longer than 200
    // characters or holding control characters (a line break would reshape the prompt).
    void validate() const;

    // One line for the prompt, e.g. "Patient: 54-year-old female; site: back; history:
    // itching for two months; Fitzpatrick skin type III." Empty when empty().
    std::string text() const;
};

}  // namespace dermlens::pipeline
