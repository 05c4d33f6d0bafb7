// Where run-time data files (prompts, the knowledge base) are read from, and where
// dermlens keeps what it can regenerate (demo models, the embedding cache).
#pragma once

#include <filesystem>

namespace dermlens {

// $DERMLENS_DATA_DIR when set, else the data/ folder of the source tree dermlens was built from.
std::filesystem::path data_dir();

// $DERMLENS_CACHE_DIR when set, else $XDG_CACHE_HOME/dermlens, else $HOME/.cache/dermlens.
std::filesystem::path cache_dir();

}  // namespace dermlens
