#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace dermlens {

// Lower-case hex SHA-256 of a file's bytes (streamed; throws Error naming the file).
std::string sha256_file(const std::filesystem::path & path);
std::string sha256_bytes(std::span<const std::uint8_t> bytes);

}  // namespace dermlens
