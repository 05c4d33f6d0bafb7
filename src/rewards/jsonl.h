// The files `dermlens reward score` reads (docs/rewards.md): items and completions as JSON Lines.
// Errors name the file and the line (Error(InvalidInput)).
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace dermlens::rewards {

// One item per non-empty line: the item itself, or a row of `train-data export` (VERL's
// reward_model.ground_truth, TRL's ground_truth, EasyR1's answer), whose ground truth is taken.
std::vector<nlohmann::json> read_items(const std::filesystem::path & file);

struct CompletionLine {
    std::string text;
    std::size_t item = 0;  // index into the items
    std::size_t line = 0;  // 1-based line of the file
};

// One completion per non-empty line: a JSON string, a chat message list ([{"role": "assistant",
// "content": "..."}], as TRL passes conversational completions) or {"completion": ..., "item": N}.
// Without "item", the j-th completion belongs to item j / group_size.
std::vector<CompletionLine> read_completions(const std::filesystem::path & file, std::size_t item_count,
                                             std::size_t group_size);

}  // namespace dermlens::rewards
