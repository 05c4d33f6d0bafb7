// Where run-time data files (prompts, the knowledge base) are read from, and where
// dermlens keeps what it can regenerate (demo models, the embedding cache).
#pragma once

#include <filesystem>

namespace dermlens {

// The folder set by set_data_dir(), else $DERMLENS_DATA_DIR, else the installed
// <prefix>/share/dermlens beside the binary or library holding dermlens (bin/../share/dermlens,
// lib/../share/dermlens), else the data/ folder of the source tree dermlens was built from.
std::filesystem::path data_dir();

// Makes data_dir() return `dir` (EngineParams::data_dir); process-wide, like llama.cpp's logging.
void set_data_dir(const std::filesystem::path & dir);

// $DERMLENS_CACHE_DIR when set, else $XDG_CACHE_HOME/dermlens, else $HOME/.cache/dermlens.
std::filesystem::path cache_dir();

}  // namespace dermlens
