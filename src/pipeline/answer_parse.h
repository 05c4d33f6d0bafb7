// Reading a freely generated answer (--decide generate) back to one option, for every
// prompt style: the baselines of the papers answer in text, not by option scoring.
// An answer that does not name exactly one option is unparseable and counted as such,
// never guessed.
#pragma once

#include "pipeline/prompt.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::kb {
class KnowledgeBase;
}

namespace dermlens::pipeline {

enum class ChoiceStatus { Letter, LabelName, Synonym, Unparseable };
const char * choice_status_name(ChoiceStatus status) noexcept;  // "letter" | "label_name" | "synonym" | "unparseable"

struct ParsedChoice {
    ChoiceStatus status = ChoiceStatus::Unparseable;
    std::optional<std::size_t> index;  // into turns.markers: a label, or turns.not_sure_index
    std::string answer_text;           // what was read: the reply, or the style's answer part of it
    std::string problem;               // why it is unparseable; empty otherwise
};

// `reply` is the text generated after turns.answer_lead (the lead is put back in front of
// it); `labels` are the options as given to build_prompt, without the not-sure option.
// What is read, by style: Skin-R1 the text after "<final diagnosis>" (up to its closing
// tag), SkinFlow the "disease" of the first entry of the JSON top-K list in <answer>, the
// others the whole reply. In it, an option letter or label (pipeline::parse_direct_answer's
// rules), the not-sure option by letter or name, or — with a knowledge base — a name or
// synonym of an option's condition ("shingles" for "herpes zoster"). Unparseable: no
// option, two different options, a letter that contradicts a named option, or a reply
// missing the style's answer part.
ParsedChoice parse_choice(std::string_view reply, const PromptTurns & turns, const std::vector<std::string> & labels,
                          PromptStyle style, const kb::KnowledgeBase * kb);

// The diseases of a SkinFlow reply, <answer>{"topK_diseases": [{"disease": "…", …}, …]}</answer>,
// most likely first (the closing tag may be missing: the model stopped first; the JSON may
// carry // comments, as the paper's example does).
struct SkinFlowDiseases {
    std::vector<std::string> names;  // each entry's "disease" text as written; "" for an entry without one
    std::string problem;             // why the reply lists no disease; empty when it lists some
};
SkinFlowDiseases parse_skinflow_diseases(std::string_view reply);

}  // namespace dermlens::pipeline
