#include "pipeline/prompt.h"

#include "common/text.h"
#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "pipeline/data_files.h"
#include "pipeline/direct.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <utility>

namespace dermlens::pipeline {
namespace {

// SkinFlow ranks its top-K; paper 003 reports Top-1 to Top-6, and the probe proposes 5.
constexpr std::size_t kSkinFlowMaxK = 5;

using Placeholders = std::vector<std::pair<std::string_view, std::string>>;

// `text` (the prompt file `name`) with each "{key}" replaced by its value in one pass, so
// that braces inside values (a patient history, an option label) are never substituted.
// Other braces, like the JSON examples of the paper styles, stay as they are. Every key
// must occur: a placeholder missing from an edited file would silently drop the options.
std::string fill(std::string_view name, std::string_view text, const Placeholders & values) {
    for (const auto & [key, value] : values) {
        if (text.find(fmt::format("{{{}}}", key)) == std::string_view::npos) {
            throw Error(ErrorKind::InvalidInput, fmt::format("prompt '{}.txt': has no {{{}}} placeholder", name, key));
        }
    }
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        const auto match = std::find_if(values.begin(), values.end(), [&](const auto & entry) {
            const auto & key = entry.first;
            return text[i] == '{' && text.substr(i + 1, key.size()) == key && text.substr(i + 1 + key.size(), 1) == "}";
        });
        if (match == values.end()) {
            out += text[i++];
        } else {
            out += match->second;
            i += match->first.size() + 2;
        }
    }
    return out;
}

std::string read_filled(std::string_view name, const Placeholders & values) {
    return fill(name, read_prompt(name), values);
}

void validate_options(const PromptRequest & request, const std::string & not_sure) {
    const std::size_t total = request.options.size() + (request.not_sure_option ? 1 : 0);
    if (request.options.size() < 2 || total > kMaxOptions) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("prompt: need 2 to {} options{}, got {}", kMaxOptions,
                                request.not_sure_option ? " with the not-sure option" : "", total));
    }
    std::set<std::string> seen;
    if (request.not_sure_option) {
        seen.insert(ascii_lower(not_sure));
    }
    for (const auto & option : request.options) {
        if (option.label.empty()) {
            throw Error(ErrorKind::InvalidArgument, "prompt: empty option label");
        }
        if (option.label.find_first_of("\r\n") != std::string::npos) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("prompt: option label '{}' spans lines", option.label));
        }
        if (!seen.insert(ascii_lower(option.label)).second) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("prompt: option '{}' appears twice (the not-sure option counts)", option.label));
        }
        if (request.with_descriptions && option.description.empty()) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("prompt: option '{}' has no description for the in-context prompt", option.label));
        }
    }
}

// How each style lists its options: the marker, the separator between options, and how
// an in-context description attaches to its label.
struct OptionFormat {
    std::string_view marker_before;  // "(" for "(A)", "" for "A:"
    std::string_view marker_after;
    bool lettered = true;  // SkinFlow lists names: its answer is a JSON list of disease names
    std::string_view separator;
    std::string_view description_before;
    std::string_view description_after;
};

OptionFormat option_format(PromptStyle style) {
    switch (style) {
        case PromptStyle::Dermlens: return {"(", ") ", true, "\n", " — ", ""};
        case PromptStyle::SkinVl: return {"", ": ", true, ", ", " (", ")"};
        case PromptStyle::SkinR1: return {"", ": ", true, " ", " (", ")"};
        case PromptStyle::SkinFlow: return {"", "", false, "\n", ": ", ""};
    }
    return {};
}

std::string option_list(const PromptRequest & request, const std::vector<PromptOption> & options) {
    const OptionFormat format = option_format(request.style);
    std::string list;
    for (std::size_t i = 0; i < options.size(); ++i) {
        if (i > 0) {
            list += format.separator;
        }
        list += format.lettered ? fmt::format("{}{}{}", format.marker_before, option_letter(i), format.marker_after)
                                : std::string("- ");
        list += options[i].label;
        if (request.with_descriptions && !options[i].description.empty()) {
            list += fmt::format("{}{}{}", format.description_before, options[i].description, format.description_after);
        }
    }
    return list;
}

// The sentences that explain the options: how to read in-context descriptions, when to
// choose "not sure". Each starts with a space so that an empty guide leaves no trace.
std::string guide(const PromptRequest & request, const std::string & not_sure) {
    std::string text;
    if (request.with_descriptions) {
        text += ' ';
        text += read_prompt("in-context-guide");
    }
    if (request.not_sure_option) {
        text += ' ';
        text += read_filled("not-sure-guide", {{"not_sure", not_sure}});
    }
    return text;
}

// Dermlens gives the context a paragraph, SkinFlow a line; SkinVL and Skin-R1 ask in running text.
std::string context_prefix(const PromptRequest & request) {
    if (request.context.empty()) {
        return {};
    }
    switch (request.style) {
        case PromptStyle::Dermlens: return request.context.text() + "\n\n";
        case PromptStyle::SkinFlow: return request.context.text() + "\n";
        case PromptStyle::SkinVl:
        case PromptStyle::SkinR1: return request.context.text() + " ";
    }
    return {};
}

std::string letters(std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        out += fmt::format("{}{}", i == 0 ? "" : "/", option_letter(i));
    }
    return out;
}

// The question that asks for the decision, in the request's style.
std::string choice_question(const PromptRequest & request, const std::vector<PromptOption> & options,
                            const std::string & not_sure) {
    Placeholders values{{"context", context_prefix(request)},
                        {"options", option_list(request, options)},
                        {"guide", guide(request, not_sure)}};
    switch (request.style) {
        case PromptStyle::Dermlens: return read_filled(request.describe_first ? "decide" : "question", values);
        case PromptStyle::SkinVl: return read_filled("skinvl", values);
        case PromptStyle::SkinR1:
            values.emplace_back("letters", letters(options.size()));
            return read_filled("skin-r1", values);
        case PromptStyle::SkinFlow:
            // K counts the candidates: "not sure" is an option to pick, not a disease to rank.
            values.emplace_back("k", std::to_string(std::min(request.options.size(), kSkinFlowMaxK)));
            return read_filled("skinflow-topk", values);
    }
    return {};
}

std::string describe_question(DescriptionSchema schema) {
    return read_filled(fmt::format("describe-{}", schema_name(schema)),
                       {{"max_chars", std::to_string(max_value_chars(schema))}});
}

std::string ending_with_stop(std::string_view sentence) {
    std::string out(sentence);
    if (!out.empty() && out.back() != '.') {
        out += '.';
    }
    return out;
}

// One line: "Location: … Lesion type: … Shape/border: … Colour: … Texture: …".
std::string render(const kb::Description & description) {
    const std::array<std::pair<std::string_view, const std::string *>, 5> criteria{{
        {"Location", &description.location},
        {"Lesion type", &description.lesion_type},
        {"Shape/border", &description.shape_border},
        {"Colour", &description.colour},
        {"Texture", &description.texture},
    }};
    std::string out;
    for (const auto & [name, text] : criteria) {
        if (!text->empty()) {
            out += fmt::format("{}{}: {}", out.empty() ? "" : " ", name, ending_with_stop(*text));
        }
    }
    return out;
}

}  // namespace

std::string_view strategy_name(Strategy strategy) noexcept {
    switch (strategy) {
        case Strategy::Direct: return "direct";
        case Strategy::InContext: return "in-context";
        case Strategy::DescribeThenDecide: return "describe-then-decide";
        case Strategy::TopK: return "topk";
        case Strategy::Combined: return "combined";
    }
    return "?";
}

Strategy parse_strategy(std::string_view name) {
    for (const auto strategy : {Strategy::Direct, Strategy::InContext, Strategy::DescribeThenDecide, Strategy::TopK,
                                Strategy::Combined}) {
        if (name == strategy_name(strategy)) {
            return strategy;
        }
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("strategy '{}': expected direct, in-context, describe-then-decide, topk or combined", name));
}

StrategyParts strategy_parts(Strategy strategy) noexcept {
    switch (strategy) {
        case Strategy::Direct: return {};
        case Strategy::InContext: return {true, false, false};
        case Strategy::DescribeThenDecide: return {false, true, false};
        case Strategy::TopK: return {false, false, true};
        case Strategy::Combined: return {true, true, true};
    }
    return {};
}

std::string_view style_name(PromptStyle style) noexcept {
    switch (style) {
        case PromptStyle::Dermlens: return "dermlens";
        case PromptStyle::SkinVl: return "skinvl";
        case PromptStyle::SkinR1: return "skin-r1";
        case PromptStyle::SkinFlow: return "skinflow";
    }
    return "?";
}

PromptStyle parse_style(std::string_view name) {
    for (const auto style : {PromptStyle::Dermlens, PromptStyle::SkinVl, PromptStyle::SkinR1, PromptStyle::SkinFlow}) {
        if (name == style_name(style)) {
            return style;
        }
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("prompt style '{}': expected dermlens, skinvl, skin-r1 or skinflow", name));
}

std::string not_sure_label() {
    return read_prompt("not-sure");
}

PromptTurns build_prompt(const PromptRequest & request) {
    request.context.validate();
    const std::string not_sure = request.not_sure_option ? not_sure_label() : std::string();
    validate_options(request, not_sure);

    std::vector<PromptOption> options = request.options;
    PromptTurns turns;
    if (request.not_sure_option) {
        turns.not_sure_index = options.size();
        options.push_back({not_sure, {}});
    }
    for (std::size_t i = 0; i < options.size(); ++i) {
        turns.markers.emplace_back(1, option_letter(i));
    }

    const std::string question = choice_question(request, options, not_sure);
    if (request.describe_first) {
        turns.image_question = describe_question(request.schema);
        turns.decide_question = question;
        turns.description_grammar = description_grammar(request.schema);
    } else {
        turns.image_question = question;
    }
    if (request.style == PromptStyle::Dermlens) {
        turns.preamble = read_prompt("preamble");
        // The question asks for "(A)": after the lead, the next token is the letter. (Built from a
        // char because GCC 12 warns falsely, -Wrestrict, on assigning the one-character literal.)
        turns.answer_lead = std::string(1, '(');
    }
    return turns;
}

std::vector<PromptOption> options_with_descriptions(const kb::KnowledgeBase & kb, const std::vector<std::string> & labels,
                                                    const std::string & label_set) {
    std::vector<PromptOption> options;
    for (const auto & label : labels) {
        const std::string id = label_set.empty() ? kb.resolve(label) : kb.resolve(label, label_set);
        const auto path = kb.path_to_root(id);
        const auto described = std::find_if(path.begin(), path.end(),
                                            [&](const std::string & node) { return kb.condition(node).description.has_value(); });
        if (described == path.end()) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("label '{}' (condition '{}'): neither it nor any ancestor has a visual description "
                                    "in the knowledge base",
                                    label, id));
        }
        options.push_back({label, render(*kb.condition(*described).description)});
    }
    return options;
}

}  // namespace dermlens::pipeline
