// The prompts of the re-ranking pipeline (paper 000 sections 3.1-3.4): which strategy
// asks what, in which published wording (style), turned into the chat turns the model
// layer feeds to the VLM. All wording lives in data/prompts/*.txt.
//
// Layout of one diagnosis:
//   user turn 1:  preamble, <image>, image_question
//   (describe_first) assistant: a description generated under description_grammar
//                    user turn 2: decide_question
//   assistant:    answer_lead, then the option marker whose next-token probability
//                 option scoring reads (or a free answer for --decide generate).
// Everything that varies per image (options, clinical context) comes after the image,
// so the preamble is the prefix that the KV cache shares across images. The context goes
// with the decision, not with the describe question: the description reports the image alone.
#pragma once

#include "pipeline/clinical_context.h"
#include "pipeline/description.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::kb {
class KnowledgeBase;
}

namespace dermlens::pipeline {

// --strategy: "direct", "in-context", "describe-then-decide", "topk", "combined".
enum class Strategy { Direct, InContext, DescribeThenDecide, TopK, Combined };
std::string_view strategy_name(Strategy strategy) noexcept;
Strategy parse_strategy(std::string_view name);  // Error(InvalidArgument) naming the text and the choices

// What a strategy switches on (paper 000 table 4; combined is all three).
struct StrategyParts {
    bool with_descriptions = false;  // in-context descriptions after each option
    bool describe_first = false;     // describe-then-decide
    bool probe_candidates = false;   // options are the probe's top-k / conformal set, not the label set
};
StrategyParts strategy_parts(Strategy strategy) noexcept;

// Whose published wording the prompt reproduces:
//   dermlens: dermlens's own (data/prompts/preamble.txt, question.txt, decide.txt);
//   skinvl:   SkinVL's zero-shot classification question (paper 001 fig. 5), options lettered
//             "A: …, B: …" as paper 002 evaluated SkinVL;
//   skin-r1:  Skin-R1's multiple-choice template, <thinking> … <final diagnosis> (paper 002 appendix D);
//   skinflow: SkinFlow's top-K JSON diagnosis (paper 003 appendix B), restricted to the options.
// The paper styles open with the image (empty preamble) and expect a free answer (empty answer_lead).
enum class PromptStyle { Dermlens, SkinVl, SkinR1, SkinFlow };
std::string_view style_name(PromptStyle style) noexcept;  // "dermlens", "skinvl", "skin-r1", "skinflow"
PromptStyle parse_style(std::string_view name);            // Error(InvalidArgument) naming the text and the choices

struct PromptOption {
    std::string label;
    std::string description;  // the condition's typical appearance; used only with with_descriptions
};

struct PromptRequest {
    PromptStyle style = PromptStyle::Dermlens;
    bool with_descriptions = false;  // in-context
    bool describe_first = false;     // describe-then-decide
    DescriptionSchema schema = DescriptionSchema::FiveCriteria;
    bool not_sure_option = false;  // paper 000 fig. 4: a "not sure" option, appended last
    ClinicalContext context;
    std::vector<PromptOption> options;  // 2..26 candidates, at most 25 with the not-sure option
};

struct PromptTurns {
    std::string preamble;        // before the image; the same for every image of a run
    std::string image_question;  // after the image in turn 1
    std::optional<std::string> decide_question;  // turn 2 when describing first
    std::string description_grammar;             // GBNF when describing first, else empty
    std::string answer_lead;                     // starts the assistant's answer: "(" before the letter
    std::vector<std::string> markers;            // "A", "B", …: one per option, the not-sure option last
    std::optional<std::size_t> not_sure_index;   // into markers
};

// The turns for one request. Throws Error(InvalidArgument) for fewer than 2 options or more
// than 26 with the not-sure option, an empty, repeated or multi-line label, an in-context option
// without description, or invalid clinical context; Error(InvalidInput) when a prompt file
// cannot be read or lacks a placeholder.
PromptTurns build_prompt(const PromptRequest & request);

// The label of the not-sure option, as the prompt shows it (data/prompts/not-sure.txt).
std::string not_sure_label();

// The options for an in-context prompt: each label resolved to its condition through
// `label_set` (or by name when empty), described by the condition's visual description or,
// when it has none, its nearest described ancestor's. Throws Error(InvalidArgument) naming
// the label when it does not resolve or nothing on its path to the root is described.
std::vector<PromptOption> options_with_descriptions(const kb::KnowledgeBase & kb, const std::vector<std::string> & labels,
                                                    const std::string & label_set);

}  // namespace dermlens::pipeline
