// Run-time data files (prompt texts, generation grammars) shipped in the source tree's data/ folder.
#pragma once

#include <string>
#include <string_view>

namespace dermlens::pipeline {

// The text of <data_dir()>/prompts/<name>.txt without trailing whitespace; throws Error(InvalidInput) naming the file.
std::string read_prompt(std::string_view name);

// The GBNF text of <data_dir()>/grammars/<name>.gbnf; throws Error(InvalidInput) naming the file.
std::string read_grammar(std::string_view name);

}  // namespace dermlens::pipeline
