#include "mmskin/captions.h"

#include "common/text.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <optional>

namespace dermlens::mmskin {
namespace {

enum class LabelKind { Letter, Roman };

struct Label {
    LabelKind kind;
    std::size_t ordinal;
    std::string text;
};

bool is_upper(std::string_view word) {
    return std::all_of(word.begin(), word.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
}

const std::array<const char *, 10> kRomans{"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"};

std::optional<Label> parse_label(std::string_view word, bool bare) {
    if (word.size() == 1 && std::isalpha(static_cast<unsigned char>(word[0]))) {
        const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
        if (upper >= 'A' && upper <= 'H' && (!bare || word[0] == upper)) {
            return Label{LabelKind::Letter, static_cast<std::size_t>(upper - 'A'), std::string(1, upper)};
        }
    }
    if (bare) {
        return std::nullopt;  // bare markers: capital letters only
    }
    const std::string lower = ascii_lower(word);
    for (std::size_t i = 0; i < kRomans.size(); ++i) {
        if (lower == kRomans[i] && (word == lower || is_upper(word))) {
            return Label{LabelKind::Roman, i, lower};
        }
    }
    return std::nullopt;
}

// A marker's label list: labels joined by ",", "&", "/", "and", ranges by "-", "–", "—", "to",
// "through". nullopt when the text is anything else.
std::optional<std::vector<Label>> parse_label_list(std::string_view text, bool bare) {
    std::vector<std::string> words;
    std::string current;
    const auto flush = [&] {
        if (!current.empty()) {
            words.push_back(current);
            current.clear();
        }
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ',' || c == '&' || c == '/' || c == '-') {
            flush();
            words.emplace_back(c == '-' ? "-" : ",");
        } else if (text.substr(i, 3) == "\xE2\x80\x93" || text.substr(i, 3) == "\xE2\x80\x94") {  // en, em dash
            flush();
            words.emplace_back("-");
            i += 2;
        } else if (std::isspace(static_cast<unsigned char>(c))) {
            flush();
        } else {
            current += c;
        }
    }
    flush();
    std::vector<Label> labels;
    bool range = false;
    bool expect_label = true;
    for (const std::string & word : words) {
        const std::string lower = ascii_lower(word);
        if (lower == "-" || lower == "to" || lower == "through") {
            if (expect_label || labels.empty()) {
                return std::nullopt;
            }
            range = true;
            expect_label = true;
        } else if (lower == "," || lower == "and") {
            if (expect_label && !(lower == "and" && !labels.empty())) {
                return std::nullopt;
            }
            expect_label = true;
        } else {
            const std::optional<Label> label = parse_label(word, bare);
            if (!label || !expect_label || (!labels.empty() && label->kind != labels.back().kind)) {
                return std::nullopt;
            }
            if (range) {
                const Label from = labels.back();
                if (label->ordinal <= from.ordinal) {
                    return std::nullopt;
                }
                for (std::size_t o = from.ordinal + 1; o < label->ordinal; ++o) {
                    labels.push_back({from.kind, o, from.kind == LabelKind::Letter ? std::string(1, char('A' + o)) : kRomans[o]});
                }
                range = false;
            }
            labels.push_back(*label);
            expect_label = false;
        }
    }
    if (labels.empty() || expect_label) {
        return std::nullopt;
    }
    return labels;
}

struct Marker {
    std::size_t begin = 0;  // of the marker in the caption
    std::size_t end = 0;    // after it (and the space after it)
    std::vector<Label> labels;
};

// What precedes position `at`, skipping spaces: the last character, or the last word.
char previous_char(std::string_view text, std::size_t at) {
    while (at > 0 && std::isspace(static_cast<unsigned char>(text[at - 1]))) {
        --at;
    }
    return at == 0 ? '\0' : text[at - 1];
}

std::string previous_word(std::string_view text, std::size_t at) {
    while (at > 0 && std::isspace(static_cast<unsigned char>(text[at - 1]))) {
        --at;
    }
    std::size_t start = at;
    while (start > 0 && std::isalpha(static_cast<unsigned char>(text[start - 1]))) {
        --start;
    }
    return ascii_lower(text.substr(start, at - start));
}

bool in_sequence(const std::vector<Marker> & markers, const std::vector<Label> & labels) {
    if (markers.empty()) {
        return labels.front().ordinal == 0;
    }
    const Label & last = markers.back().labels.back();
    return labels.front().kind == last.kind && labels.front().ordinal == last.ordinal + 1;
}

bool allowed_before(std::string_view caption, std::size_t at, bool first, bool bare) {
    const char before = previous_char(caption, at);
    if (before == '\0') {
        return true;
    }
    if (bare) {
        return before == '.' || before == ';';
    }
    if (first && at > 0 && std::isspace(static_cast<unsigned char>(caption[at - 1]))) {
        return true;
    }
    if (before == '.' || before == ';' || before == ':' || before == ',') {
        return true;
    }
    const std::string word = previous_word(caption, at);
    return word == "and" || word == "or";
}

// A bare label list at `at` ("A, …", "B and C: …"): the longest text before a ",", ":" or ")"
// and a space, within 16 characters, that parses and continues the sequence.
std::optional<Marker> bare_marker_at(std::string_view caption, std::size_t at, const std::vector<Marker> & markers) {
    std::optional<Marker> found;
    for (std::size_t end = at + 1; end < caption.size() && end - at <= 16; ++end) {
        const char c = caption[end];
        const bool closes = (c == ',' || c == ':' || c == ')') &&
                            (end + 1 == caption.size() || std::isspace(static_cast<unsigned char>(caption[end + 1])));
        if (!closes) {
            continue;
        }
        auto labels = parse_label_list(caption.substr(at, end - at), true);
        if (labels && in_sequence(markers, *labels)) {
            found = Marker{at, end + 1, std::move(*labels)};
        }
    }
    return found;
}

// A marker starting at `at`, if one is there (parenthesised, or a bare capital list).
std::optional<Marker> marker_at(std::string_view caption, std::size_t at, const std::vector<Marker> & markers) {
    const bool first = markers.empty();
    if (caption[at] == '(') {
        const std::size_t close = caption.find(')', at);
        if (close == std::string_view::npos || close - at > 24 || !allowed_before(caption, at, first, false)) {
            return std::nullopt;
        }
        auto labels = parse_label_list(caption.substr(at + 1, close - at - 1), false);
        if (!labels || !in_sequence(markers, *labels)) {
            return std::nullopt;
        }
        return Marker{at, close + 1, std::move(*labels)};
    }
    const bool starts_word = at == 0 || !std::isalnum(static_cast<unsigned char>(caption[at - 1]));
    if (!std::isupper(static_cast<unsigned char>(caption[at])) || !starts_word || !allowed_before(caption, at, first, true)) {
        return std::nullopt;
    }
    return bare_marker_at(caption, at, markers);
}

std::string trim(std::string_view text) {
    std::size_t begin = 0;
    std::size_t end = text.size();
    while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) {
        ++begin;
    }
    while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) {
        --end;
    }
    return std::string(text.substr(begin, end - begin));
}

// A panel's text without the separators that joined it to the next (";", ",", " and").
std::string panel_text(std::string_view text) {
    std::string out = trim(text);
    for (bool changed = true; changed;) {
        changed = false;
        for (const char * tail : {";", ",", " and", " or"}) {
            const std::string_view t(tail);
            if (out.size() >= t.size() && out.compare(out.size() - t.size(), t.size(), t) == 0) {
                out = trim(out.substr(0, out.size() - t.size()));
                changed = true;
            }
        }
    }
    return out;
}

// The lead without a leading "Figure 3.2", "Fig. 12-4:" and ending in a full stop.
std::string lead_text(std::string_view text) {
    std::string lead = trim(text);
    const std::string lower = ascii_lower(lead);
    for (const char * prefix : {"figure", "fig."}) {
        if (lower.rfind(prefix, 0) == 0) {
            std::size_t at = std::string_view(prefix).size();
            while (at < lead.size() && (std::isspace(static_cast<unsigned char>(lead[at])) ||
                                        std::isdigit(static_cast<unsigned char>(lead[at])) || lead[at] == '.' ||
                                        lead[at] == '-' || lead[at] == ':')) {
                ++at;
            }
            lead = trim(std::string_view(lead).substr(at));
            break;
        }
    }
    if (!lead.empty() && (lead.back() == ':' || lead.back() == ',' || lead.back() == ';')) {
        lead.back() = '.';
    } else if (!lead.empty() && lead.back() != '.' && lead.back() != '!' && lead.back() != '?') {
        lead += '.';
    }
    return lead;
}

}  // namespace

SplitCaption split_caption(std::string_view caption) {
    std::vector<Marker> markers;
    for (std::size_t at = 0; at < caption.size(); ++at) {
        if (auto marker = marker_at(caption, at, markers)) {
            at = marker->end - 1;
            markers.push_back(std::move(*marker));
        }
    }
    SplitCaption split;
    split.lead = lead_text(caption.substr(0, markers.empty() ? caption.size() : markers.front().begin));
    for (std::size_t m = 0; m < markers.size(); ++m) {
        const std::size_t end = m + 1 < markers.size() ? markers[m + 1].begin : caption.size();
        CaptionPanel panel;
        for (const Label & label : markers[m].labels) {
            panel.labels.push_back(label.text);
            panel.ordinals.push_back(label.ordinal);
        }
        panel.text = panel_text(caption.substr(markers[m].end, end - markers[m].end));
        panel.caption = split.lead.empty() ? panel.text : split.lead + " " + panel.text;
        split.panels.push_back(std::move(panel));
    }
    return split;
}

FigurePairing pair_panels(const SplitCaption & split, std::vector<std::string> images) {
    std::sort(images.begin(), images.end(), [](const std::string & a, const std::string & b) {
        return std::filesystem::path(a).filename() < std::filesystem::path(b).filename();
    });
    FigurePairing pairing;
    if (split.panels.empty()) {
        if (images.size() == 1) {
            pairing.pairs.push_back({images[0], "", split.lead});
        } else {
            pairing.mismatch = fmt::format("no panel labels in the caption but {} images", images.size());
        }
        return pairing;
    }
    std::vector<ImageCaption> pairs;
    for (const CaptionPanel & panel : split.panels) {
        for (std::size_t l = 0; l < panel.labels.size(); ++l) {
            if (panel.ordinals[l] != pairs.size()) {
                pairing.mismatch = fmt::format("label {} is out of order", panel.labels[l]);
                return pairing;
            }
            pairs.push_back({"", panel.labels[l], panel.caption});
        }
    }
    if (pairs.size() != images.size()) {
        std::vector<std::string> all;
        for (const auto & pair : pairs) {
            all.push_back(pair.panel);
        }
        pairing.mismatch = fmt::format("{} panel labels ({}) but {} image{}", pairs.size(), fmt::join(all, ", "),
                                       images.size(), images.size() == 1 ? "" : "s");
        return pairing;
    }
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        pairs[i].image = images[i];
    }
    pairing.pairs = std::move(pairs);
    return pairing;
}

}  // namespace dermlens::mmskin
