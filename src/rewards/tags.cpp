#include "rewards/tags.h"

#include "common/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace dermlens::rewards {
namespace {

// Python's \s in ASCII: what the authors' regex skips between and around the tags.
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view strip(std::string_view text) {
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

std::string open_tag(std::string_view tag) {
    return fmt::format("<{}>", ascii_lower(tag));  // fmt: GCC 12 warns falsely on "<" + std::string
}

std::string close_tag(std::string_view tag) {
    return fmt::format("</{}>", ascii_lower(tag));
}

// The authors' ^\s*<thinking>.*?</thinking>\s*<final diagnosis>.*?</final diagnosis>\s*$ (any
// case, dot matching line breaks): the text opens with the thinking tag, ends with the answer's
// closing tag, and between them a closing thinking tag is followed, after spaces only, by the
// opening answer tag.
bool ordered(std::string_view lower, const SkinR1Params & params) {
    const std::string think_open = open_tag(params.thinking_tag);
    const std::string think_close = close_tag(params.thinking_tag);
    const std::string answer_open = open_tag(params.answer_tag);
    const std::string answer_close = close_tag(params.answer_tag);
    if (lower.size() < think_open.size() + answer_close.size() || !lower.starts_with(think_open) ||
        !lower.ends_with(answer_close)) {
        return false;
    }
    const std::string_view middle =
        lower.substr(think_open.size(), lower.size() - think_open.size() - answer_close.size());
    for (auto at = middle.find(think_close); at != std::string_view::npos; at = middle.find(think_close, at + 1)) {
        auto after = at + think_close.size();
        while (after < middle.size() && is_space(middle[after])) {
            ++after;
        }
        if (middle.substr(after).starts_with(answer_open)) {
            return true;
        }
    }
    return false;
}

bool all_present(std::string_view lower, const SkinR1Params & params) {
    const std::array tags{open_tag(params.thinking_tag), close_tag(params.thinking_tag), open_tag(params.answer_tag),
                          close_tag(params.answer_tag)};
    return std::all_of(tags.begin(), tags.end(),
                       [&](const std::string & tag) { return lower.find(tag) != std::string_view::npos; });
}

}  // namespace

bool has_tag_structure(std::string_view completion, const SkinR1Params & params) {
    const std::string lower = ascii_lower(strip(completion));
    switch (params.format_rule) {
        case FormatRule::Ordered: return ordered(lower, params);
        case FormatRule::Present: return all_present(lower, params);
    }
    return false;
}

std::optional<std::string> tagged_block(std::string_view completion, std::string_view tag) {
    const std::string lower = ascii_lower(completion);
    const std::string open = open_tag(tag);
    const auto start = lower.find(open);
    if (start == std::string::npos) {
        return std::nullopt;
    }
    const auto from = start + open.size();
    const auto end = lower.find(close_tag(tag), from);
    if (end == std::string::npos) {
        return std::nullopt;
    }
    return std::string(completion.substr(from, end - from));
}

}  // namespace dermlens::rewards
