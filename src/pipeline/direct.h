// Lettered options and free answers to them: the label list of --labels, option
// letters, and reading a reply back to one option (a letter or a label name). A reply
// that names no option unambiguously is "unparseable" and reported as such, never guessed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::pipeline {

enum class ParseStatus { Letter, LabelName, Unparseable };

constexpr std::size_t kMaxOptions = 26;  // one letter each, A..Z

// Splits "melanoma, nevus" into trimmed labels; throws Error(InvalidArgument) unless
// there are 2..26 non-empty labels, distinct ignoring case.
std::vector<std::string> parse_label_list(std::string_view comma_separated);

char option_letter(std::size_t index);  // 0 -> 'A'

struct ParsedAnswer {
    ParseStatus status = ParseStatus::Unparseable;
    std::optional<std::size_t> index;  // into the labels; set unless unparseable
};

// Reads a letter ("B", "(B)", "B.", "(b)" …) or a label name (any case, whole words).
// Unparseable: no option at all, two different letters, a letter that none of the labels
// named agrees with, or several labels without a letter.
ParsedAnswer parse_direct_answer(std::string_view answer, const std::vector<std::string> & labels);

}  // namespace dermlens::pipeline
