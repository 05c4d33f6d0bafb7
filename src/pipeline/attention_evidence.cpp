#include "pipeline/attention_evidence.h"

#include "common/text.h"

#include <cctype>

namespace dermlens::pipeline {
namespace {

struct Span {
    std::size_t begin = 0;
    std::size_t end = 0;
};

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// `marker` (a letter) with no letter or digit on either side.
std::optional<std::size_t> standalone(const std::string & text, const std::string & marker) {
    for (std::size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
        const bool before = at > 0 && is_word_char(text[at - 1]);
        const bool after = at + marker.size() < text.size() && is_word_char(text[at + marker.size()]);
        if (!before && !after) {
            return at;
        }
    }
    return std::nullopt;
}

}  // namespace

std::vector<std::size_t> diagnosis_token_steps(const model::Generation & answer, const std::string & answer_part,
                                               const std::string & label, const std::string & marker,
                                               std::string & source) {
    const std::size_t part_at = answer.text.rfind(answer_part);  // the answer part comes last (Skin-R1, SkinFlow)
    const std::size_t part_begin = part_at == std::string::npos ? 0 : part_at;
    const std::string part = part_at == std::string::npos ? answer.text : answer_part;

    Span span{part_begin, part_begin + part.size()};
    source = "whole answer";
    if (const std::size_t at = ascii_lower(part).find(ascii_lower(label)); !label.empty() && at != std::string::npos) {
        span = {part_begin + at, part_begin + at + label.size()};
        source = "answer tokens";
    } else if (const auto letter = standalone(part, marker)) {
        span = {part_begin + *letter, part_begin + *letter + marker.size()};
        source = "answer tokens";
    }

    std::vector<std::size_t> steps;
    for (std::size_t t = 0; t < answer.tokens.size(); ++t) {
        const std::size_t begin = answer.text_offsets[t];
        const std::size_t end = t + 1 < answer.tokens.size() ? answer.text_offsets[t + 1] : answer.text.size();
        if (begin < span.end && end > span.begin) {
            steps.push_back(t);
        }
    }
    return steps;
}

}  // namespace dermlens::pipeline
