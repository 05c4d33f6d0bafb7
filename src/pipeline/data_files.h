// Run-time data files (prompt texts) shipped in the source tree's data/ folder.
#pragma once

#include <string>
#include <string_view>

namespace dermlens::pipeline {

// The text of <data_dir()>/prompts/<name>.txt without trailing whitespace; throws Error(InvalidInput) naming the file.
std::string read_prompt(std::string_view name);

}  // namespace dermlens::pipeline
