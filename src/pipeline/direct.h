// The direct-answer strategy (paper 000, table 3 baseline): list the candidate
// labels as lettered options, ask for the letter, map the reply back to one
// label. A reply that names no option unambiguously is "unparseable" and is
// reported as such, never guessed.
#pragma once

#include "model/vlm.h"
#include "pipeline/diagnosis.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::pipeline {

constexpr std::size_t kMaxOptions = 26;  // one letter each, A..Z

// Splits "melanoma, nevus" into trimmed labels; throws Error(InvalidArgument) unless
// there are 2..26 non-empty labels, distinct ignoring case.
std::vector<std::string> parse_label_list(std::string_view comma_separated);

char option_letter(std::size_t index);  // 0 -> 'A'

// The question: `prompt_template` with "{options}" replaced by one "(A) label" line per label.
std::string build_direct_question(std::string_view prompt_template, const std::vector<std::string> & labels);

struct ParsedAnswer {
    ParseStatus status = ParseStatus::Unparseable;
    std::optional<std::size_t> index;  // into the labels; set unless unparseable
};

// Reads a letter ("B", "(B)", "B.", "(b)" …) or a label name (any case, whole words).
// Unparseable: no option at all, two different letters, a letter that none of the labels
// named agrees with, or several labels without a letter.
ParsedAnswer parse_direct_answer(std::string_view answer, const std::vector<std::string> & labels);

// Keeps the model loaded and the file digests computed once, across many images.
class DirectDiagnoser {
public:
    DirectDiagnoser(model::Vlm & vlm, std::vector<std::string> labels, std::string prompt_template);

    // Asks the model about one decoded image; `source` names it in the report.
    Diagnosis diagnose(const FileDigest & source, const model::ImageView & image);

private:
    model::Vlm & vlm_;
    std::vector<std::string> labels_;
    std::string question_;
    FileDigest model_;
    FileDigest mmproj_;
};

}  // namespace dermlens::pipeline
