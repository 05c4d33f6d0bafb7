// SkinFlow's open-vocabulary diagnosis (paper 003 appendix B, as its table 2 evaluates it):
// the model names its six most likely diseases, most likely first, with no options to choose
// from, in SkinFlow's top-K JSON. The reply is generated under a GBNF grammar
// (data/grammars/skinflow-topk-open.gbnf) that holds it to that shape, so that it parses and
// ends within kOpenTopKMaxTokens; parse_skinflow_diseases (answer_parse.h) reads the names back.
#pragma once

#include <cstddef>
#include <string>

namespace dermlens::pipeline {

// Table 2 reports Top-1 to Top-6; the prompt and the grammar ask for this many.
inline constexpr std::size_t kOpenTopK = 6;

// A generation budget no output of the grammar exceeds: every token the grammar lets through
// writes at least one byte, so the tokens are at most the bytes of the longest output (2522)
// plus the end-of-generation token (tests/pipeline/test_open_topk.cpp checks it against the
// grammar itself).
inline constexpr std::size_t kOpenTopKMaxTokens = 2528;

// The question after the image (data/prompts/skinflow-topk-open.txt) and the grammar's GBNF
// text; both throw Error(InvalidInput) naming the file when it cannot be read.
std::string open_topk_question();
std::string open_topk_grammar();

}  // namespace dermlens::pipeline
