// Model files' SHA-256 without reading gigabytes at every start. The Engine keys the embedding
// cache, probes and the attention store by the model files' content hashes; hashing a 3 GB
// Gemma-3-4B pair costs seconds per process, which llama.cpp's own tools do not pay. A hash is
// remembered with the file's identity (device, inode, size and modification time in
// nanoseconds, as make and ccache's direct mode trust them) and reused while that identity is
// unchanged; any change, or a store that cannot be read, means hashing again.
#pragma once

#include <filesystem>
#include <string>

namespace dermlens {

// sha256_file(path), remembered in `store` (a text file, one line per file; created on first
// use, its folder too; files that no longer exist are dropped from it whenever it is written).
// A store that cannot be written only costs the next start its hashing.
// Throws Error(InvalidInput) naming `path` as sha256_file does.
std::string sha256_file_remembered(const std::filesystem::path & path, const std::filesystem::path & store);

// sha256_file_remembered(path, cache_dir() / "file-hashes.txt").
std::string sha256_model_file(const std::filesystem::path & path);

}  // namespace dermlens
