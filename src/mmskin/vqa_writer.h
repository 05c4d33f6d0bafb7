// Paper 001 (MM-Skin, 3.1.2 and supplement A, fig. 7): "we employ Llama-3.1 as a generator to
// curate diverse instruction-following data with multi-round conversations", asked "to generate
// multi-round questions and answers in a tone as if it could 'see' the image" from the caption
// alone, under rules (no "caption" / "mentioned" / "context", nothing not stated in the caption).
//
// dermlens runs any local GGUF text model through a text-only Engine (Engine::generate): the
// paper's system prompt (data/prompts/mmskin-vqa-system.txt), two hand-written few-shot
// conversations (data/mmskin/vqa_writer.json: the paper's are unpublished), the caption as the
// last user message, and the reply held by a grammar (data/grammars/mmskin-vqa.gbnf) to a JSON
// list of 2-4 {"q", "a"} turns. The paper's rules are then enforced mechanically, each rejected
// turn reported with its reason: a forbidden word ("caption", "mentioned", "context"), a number
// the caption does not have, a diagnosis name (any name of a knowledge-base condition below the
// top-level categories) whose condition the caption does not name, an answer over the word limit.
// The paper's "manual selection" is left to a person reading the report.
#pragma once

#include "dermlens/engine.h"
#include "dermlens/kb/knowledge_base.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::mmskin {

struct VqaTurn {
    std::string question;
    std::string answer;
};

struct FewShot {
    std::string context;   // a caption
    std::string response;  // its conversation, in the grammar's JSON
};

struct VqaWriterConfig {
    std::vector<FewShot> few_shot;
    std::vector<std::string> forbidden_words;
    std::size_t max_answer_words = 60;

    // Reads data/mmskin/vqa_writer.json (or `file`); throws Error(InvalidInput) naming the field.
    static VqaWriterConfig load(const std::filesystem::path & file);
    static std::filesystem::path default_file();
};

// The turns of a reply in the grammar's form; throws Error(InvalidInput) when it is not a JSON
// list of {"q", "a"} strings.
std::vector<VqaTurn> parse_turns(std::string_view reply);

struct RejectedTurn {
    VqaTurn turn;
    std::string reason;  // "forbidden word 'caption'", "number 12 not in the caption", …
};

struct FilteredTurns {
    std::vector<VqaTurn> kept;
    std::vector<RejectedTurn> rejected;
};

// The paper's rules on each turn, against its caption.
FilteredTurns filter_turns(const std::vector<VqaTurn> & turns, std::string_view caption, const VqaWriterConfig & config,
                           const kb::KnowledgeBase & kb);

struct VqaWriterParams {
    int max_tokens = 512;
    float temperature = 0;  // 0: greedy
    std::uint32_t seed = 0;
    void validate() const;  // throws Error(InvalidArgument) naming the field
};

struct WrittenTurns {
    FilteredTurns turns;
    std::string reply;          // the model's text
    std::string finish_reason;  // "stop" | "length"
};

// The request for one caption: system prompt, few-shot turns, the caption, the grammar.
GenerateRequest vqa_request(std::string_view caption, const VqaWriterConfig & config, const VqaWriterParams & params);

// Asks `engine` (a text-only Engine will do) for one caption's turns and filters them. A reply
// that does not parse (cut off at max_tokens) keeps no turn and is reported as one rejection.
WrittenTurns write_turns(Engine & engine, std::string_view caption, const VqaWriterConfig & config,
                         const VqaWriterParams & params);

}  // namespace dermlens::mmskin
