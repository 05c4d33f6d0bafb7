// Where run-time data files (prompts, the knowledge base) are read from.
#pragma once

#include <filesystem>

namespace dermlens {

// $DERMLENS_DATA_DIR when set, else the data/ folder of the source tree dermlens was built from.
std::filesystem::path data_dir();

}  // namespace dermlens
