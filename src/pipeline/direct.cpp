#include "pipeline/direct.h"

#include "common/text.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace dermlens::pipeline {
namespace {

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// Markdown emphasis and quotes carry no meaning for the answer.
std::string strip_decoration(std::string_view answer) {
    std::string out;
    for (const char c : answer) {
        if (c != '*' && c != '`' && c != '"' && c != '\'') {
            out += c;
        }
    }
    return std::string(trim(out));
}

std::optional<std::size_t> letter_index(char c, std::size_t n_options) {
    const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper < 'A' || static_cast<std::size_t>(upper - 'A') >= n_options) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(upper - 'A');
}

// Option letters the reply gives: "(X)" or "(x)" anywhere, and an upper-case letter at the start
// alone or followed by punctuation ("B", "B.", "B) nevus", "B: …"). Not "A nevus" (the article).
std::set<std::size_t> letters_given(std::string_view text, std::size_t n_options) {
    std::set<std::size_t> found;
    for (std::size_t i = 0; i + 2 < text.size(); ++i) {
        if (text[i] == '(' && text[i + 2] == ')') {
            if (const auto index = letter_index(text[i + 1], n_options)) {
                found.insert(*index);
            }
        }
    }
    constexpr std::string_view after_letter = ".):,\n";
    if (!text.empty() && std::isupper(static_cast<unsigned char>(text[0])) &&
        (text.size() == 1 || after_letter.find(text[1]) != std::string_view::npos)) {
        if (const auto index = letter_index(text[0], n_options)) {
            found.insert(*index);
        }
    }
    return found;
}

bool contains_words(const std::string & haystack, const std::string & needle) {
    for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) {
        const bool starts_word = pos == 0 || !is_word_char(haystack[pos - 1]);
        const auto end = pos + needle.size();
        const bool ends_word = end == haystack.size() || !is_word_char(haystack[end]);
        if (starts_word && ends_word) {
            return true;
        }
    }
    return false;
}

// Labels named in the answer; a label contained in a longer named one ("keratosis" in
// "actinic keratosis") does not count separately.
std::set<std::size_t> named_labels(std::string_view text, const std::vector<std::string> & labels) {
    const std::string haystack = ascii_lower(text);
    std::set<std::size_t> named;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (contains_words(haystack, ascii_lower(labels[i]))) {
            named.insert(i);
        }
    }
    std::set<std::size_t> maximal;
    for (const auto i : named) {
        const bool inside_other = std::any_of(named.begin(), named.end(), [&](std::size_t j) {
            return j != i && ascii_lower(labels[j]).find(ascii_lower(labels[i])) != std::string::npos;
        });
        if (!inside_other) {
            maximal.insert(i);
        }
    }
    return maximal;
}


}  // namespace

std::vector<std::string> parse_label_list(std::string_view comma_separated) {
    std::vector<std::string> labels;
    std::set<std::string> seen;
    std::size_t start = 0;
    while (start <= comma_separated.size()) {
        const auto comma = std::min(comma_separated.find(',', start), comma_separated.size());
        const std::string label(trim(comma_separated.substr(start, comma - start)));
        if (label.empty()) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("labels '{}': empty label", comma_separated));
        }
        if (!seen.insert(ascii_lower(label)).second) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("labels '{}': '{}' appears twice", comma_separated, label));
        }
        labels.push_back(label);
        start = comma + 1;
    }
    if (labels.size() < 2 || labels.size() > kMaxOptions) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("labels '{}': need 2 to {} labels, got {}", comma_separated, kMaxOptions, labels.size()));
    }
    return labels;
}

char option_letter(std::size_t index) {
    return static_cast<char>('A' + index);
}


ParsedAnswer parse_direct_answer(std::string_view answer, const std::vector<std::string> & labels) {
    const std::string text = strip_decoration(answer);
    const auto letters = letters_given(text, labels.size());
    const auto named = named_labels(text, labels);
    if (letters.size() > 1) {
        return {};  // "(A) or (B)"
    }
    if (letters.size() == 1) {
        const std::size_t letter = *letters.begin();
        if (!named.empty() && !named.contains(letter)) {
            return {};  // "(A) nevus" when (A) is melanoma: contradictory
        }
        return {ParseStatus::Letter, letter};
    }
    if (named.size() == 1) {
        return {ParseStatus::LabelName, *named.begin()};
    }
    return {};
}

}  // namespace dermlens::pipeline
