// GBNF grammars checked with llama.cpp's own grammar engine, so that what a test finds the
// grammar allowing is what generation allows. Uses llama.cpp's internal header, as its own
// tests do: the test links llama and has ${LLAMA_CPP_DIR}/src on its include path. Test-only.
#pragma once

#include "llama-grammar.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

namespace dermlens::test {

struct GrammarFree {
    void operator()(llama_grammar * grammar) const { llama_grammar_free_impl(grammar); }
};
using Grammar = std::unique_ptr<llama_grammar, GrammarFree>;

// The grammar of `gbnf` (rule "root"); null when it does not parse.
inline Grammar load_grammar(const std::string & gbnf) {
    return Grammar(llama_grammar_init_impl(nullptr, gbnf.c_str(), "root", false, nullptr, 0, nullptr, 0));
}

// Whether the grammar generates exactly `output`, fed one byte per token as a model could.
inline bool grammar_generates(const std::string & gbnf, const std::string & output) {
    const Grammar grammar = load_grammar(gbnf);
    try {
        for (const char c : output) {
            llama_grammar_accept_str(*grammar, std::string(1, c));
        }
    } catch (const std::runtime_error &) {
        return false;  // no way to continue: the grammar rejected this byte
    }
    const auto & stacks = llama_grammar_get_stacks(grammar.get());
    return std::any_of(stacks.begin(), stacks.end(), [](const auto & stack) { return stack.empty(); });
}

}  // namespace dermlens::test
