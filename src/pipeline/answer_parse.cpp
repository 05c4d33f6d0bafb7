#include "pipeline/answer_parse.h"

#include "common/text.h"
#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "kb/names.h"
#include "pipeline/direct.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>

namespace dermlens::pipeline {
namespace {

// The answer part of a reply, or why there is none.
struct AnswerPart {
    std::string text;
    std::string problem;
};

// The text between `open` and `close` (or the end when the model stopped before closing),
// matching the tags in any case.
std::optional<std::string> between_tags(std::string_view reply, std::string_view open, std::string_view close) {
    const std::string haystack = ascii_lower(reply);
    const auto start = haystack.find(open);
    if (start == std::string::npos) {
        return std::nullopt;
    }
    const auto from = start + open.size();
    const auto end = std::min(haystack.find(close, from), reply.size());
    return std::string(reply.substr(from, end - from));
}

// SkinFlow's answer: the first entry of its top-K list is its top-1.
AnswerPart skinflow_top1(std::string_view reply) {
    SkinFlowDiseases diseases = parse_skinflow_diseases(reply);
    if (!diseases.problem.empty()) {
        return {{}, std::move(diseases.problem)};
    }
    if (diseases.names.front().empty()) {
        return {{}, "the first top-K entry has no \"disease\" text"};
    }
    return {std::move(diseases.names.front()), {}};
}

AnswerPart answer_part(std::string_view reply, const PromptTurns & turns, PromptStyle style) {
    switch (style) {
        case PromptStyle::SkinR1: {
            auto text = between_tags(reply, "<final diagnosis>", "</final diagnosis>");
            if (!text) {
                return {{}, "no <final diagnosis> tag"};
            }
            return {std::move(*text), {}};
        }
        case PromptStyle::SkinFlow: return skinflow_top1(reply);
        case PromptStyle::Dermlens:
        case PromptStyle::SkinVl: break;
    }
    return {turns.answer_lead + std::string(reply), {}};
}

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

struct NameSpan {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::size_t option = 0;
};

// Every name and synonym of the conditions the labels resolve to, as lower-case needles.
// A label the knowledge base does not know (or finds ambiguous) contributes none: it can
// still be matched by its own text.
std::vector<std::pair<std::string, std::size_t>> condition_names(const std::vector<std::string> & labels,
                                                                 const kb::KnowledgeBase & kb) {
    std::vector<std::pair<std::string, std::size_t>> needles;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        std::string id;
        try {
            id = kb.resolve(labels[i]);
        } catch (const Error &) {
            continue;
        }
        const auto & condition = kb.condition(id);
        std::vector<std::string> names{condition.name};
        names.insert(names.end(), condition.synonyms.begin(), condition.synonyms.end());
        std::set<std::string> distinct;
        for (const auto & name : names) {
            distinct.insert(ascii_lower(name));
            distinct.insert(kb::normalize_name(name));  // "Bowen's disease" -> "bowen disease"
        }
        for (const auto & needle : distinct) {
            if (needle.size() >= 2) {  // a one-letter synonym would read option letters as names
                needles.emplace_back(needle, i);
            }
        }
    }
    return needles;
}

// `text` with each name of an option's condition replaced by the option's label, so that
// parse_direct_answer can read synonyms as label names. Longer names win over the names
// inside them ("malignant melanoma" before "melanoma").
std::string with_labels_for_names(std::string_view text, const std::vector<std::string> & labels,
                                  const kb::KnowledgeBase & kb) {
    const std::string haystack = ascii_lower(text);
    std::vector<NameSpan> spans;
    for (const auto & [needle, option] : condition_names(labels, kb)) {
        for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) {
            const auto end = pos + needle.size();
            const bool whole_word = (pos == 0 || !is_word_char(haystack[pos - 1])) &&
                                    (end == haystack.size() || !is_word_char(haystack[end]));
            if (whole_word) {
                spans.push_back({pos, end, option});
            }
        }
    }
    std::sort(spans.begin(), spans.end(), [](const NameSpan & a, const NameSpan & b) {
        const auto length_a = a.end - a.begin;
        const auto length_b = b.end - b.begin;
        return length_a != length_b ? length_a > length_b : a.begin < b.begin;
    });
    std::vector<NameSpan> chosen;
    for (const auto & span : spans) {
        const bool overlaps = std::any_of(chosen.begin(), chosen.end(), [&](const NameSpan & other) {
            return span.begin < other.end && other.begin < span.end;
        });
        if (!overlaps) {
            chosen.push_back(span);
        }
    }
    std::sort(chosen.begin(), chosen.end(), [](const NameSpan & a, const NameSpan & b) { return a.begin < b.begin; });
    std::string out;
    std::size_t at = 0;
    for (const auto & span : chosen) {
        out += text.substr(at, span.begin - at);
        out += labels[span.option];
        at = span.end;
    }
    out += text.substr(at);
    return out;
}

ChoiceStatus choice_status(ParseStatus status) {
    switch (status) {
        case ParseStatus::Letter: return ChoiceStatus::Letter;
        case ParseStatus::LabelName: return ChoiceStatus::LabelName;
        case ParseStatus::Unparseable: break;
    }
    return ChoiceStatus::Unparseable;
}

}  // namespace

const char * choice_status_name(ChoiceStatus status) noexcept {
    switch (status) {
        case ChoiceStatus::Letter: return "letter";
        case ChoiceStatus::LabelName: return "label_name";
        case ChoiceStatus::Synonym: return "synonym";
        case ChoiceStatus::Unparseable: return "unparseable";
    }
    return "?";
}

SkinFlowDiseases parse_skinflow_diseases(std::string_view reply) {
    const auto json_text = between_tags(reply, "<answer>", "</answer>");
    if (!json_text) {
        return {{}, "no <answer> tag"};
    }
    const auto json = nlohmann::ordered_json::parse(*json_text, nullptr, /*allow_exceptions=*/false,
                                                    /*ignore_comments=*/true);
    if (json.is_discarded() || !json.is_object()) {
        return {{}, "the <answer> is not a JSON object"};
    }
    const auto list = std::find_if(json.begin(), json.end(), [](const auto & value) { return value.is_array(); });
    if (list == json.end() || list->empty()) {
        return {{}, "the <answer> JSON has no top-K list"};
    }
    SkinFlowDiseases diseases;
    for (const auto & entry : *list) {
        // An entry without a name keeps its rank: the names after it stay where the model put them.
        const bool named = entry.is_object() && entry.contains("disease") && entry["disease"].is_string();
        diseases.names.push_back(named ? entry["disease"].template get<std::string>() : std::string());
    }
    return diseases;
}

ParsedChoice parse_choice(std::string_view reply, const PromptTurns & turns, const std::vector<std::string> & labels,
                          PromptStyle style, const kb::KnowledgeBase * kb) {
    ParsedChoice result;
    AnswerPart part = answer_part(reply, turns, style);
    result.answer_text = std::move(part.text);
    if (!part.problem.empty()) {
        result.problem = std::move(part.problem);
        return result;
    }

    std::vector<std::string> options = labels;
    if (turns.not_sure_index) {
        options.push_back(not_sure_label());
    }
    const ParsedAnswer direct = parse_direct_answer(result.answer_text, options);
    result.status = choice_status(direct.status);
    result.index = direct.index;

    if (kb != nullptr) {
        const std::string rewritten = with_labels_for_names(result.answer_text, labels, *kb);
        if (rewritten != result.answer_text) {
            const ParsedAnswer via_names = parse_direct_answer(rewritten, options);
            if (direct.index && via_names.index != direct.index) {
                return {ChoiceStatus::Unparseable, std::nullopt, std::move(result.answer_text),
                        "it names more than one option, or a letter and a different option"};
            }
            if (!direct.index && via_names.index) {
                result.status = via_names.status == ParseStatus::Letter ? ChoiceStatus::Letter : ChoiceStatus::Synonym;
                result.index = via_names.index;
            }
        }
    }
    if (!result.index) {
        result.status = ChoiceStatus::Unparseable;
        result.problem = "it names no single option";
    }
    return result;
}

}  // namespace dermlens::pipeline
