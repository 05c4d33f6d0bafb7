// Run-time data files (prompt texts) shipped in the source tree's data/ folder.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace dermlens::pipeline {

// $DERMLENS_DATA_DIR when set, else the data/ folder of the source tree dermlens was built from.
std::filesystem::path data_dir();

// The text of data/prompts/<name>.txt without trailing whitespace; throws Error(InvalidInput) naming the file.
std::string read_prompt(std::string_view name);

}  // namespace dermlens::pipeline
