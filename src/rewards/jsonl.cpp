#include "rewards/jsonl.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <fstream>

namespace dermlens::rewards {
namespace {

// Calls `each(json, line_number)` for every non-empty line of `file`.
template <typename Each>
void for_each_line(const std::filesystem::path & file, std::string_view what, Each each) {
    std::ifstream in(file);
    if (!in) {
        throw Error(ErrorKind::InvalidInput, fmt::format("{} '{}': cannot read it", what, file.string()));
    }
    std::size_t number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (json.is_discarded()) {
            throw Error(ErrorKind::InvalidInput, fmt::format("{} '{}' line {}: not JSON", what, file.string(), number));
        }
        each(json, number);
    }
}

nlohmann::json ground_truth_of(const nlohmann::json & row) {
    if (row.is_object()) {
        if (row.contains("reward_model") && row["reward_model"].is_object() && row["reward_model"].contains("ground_truth")) {
            return row["reward_model"]["ground_truth"];
        }
        if (row.contains("ground_truth")) {
            return row["ground_truth"];
        }
        if (row.contains("problem") && row.contains("answer")) {
            return row["answer"];
        }
    }
    return row;
}

std::optional<std::string> completion_text(const nlohmann::json & json) {
    if (json.is_string()) {
        return json.get<std::string>();
    }
    if (json.is_array() && !json.empty() && json.back().is_object() && json.back().contains("content") &&
        json.back()["content"].is_string()) {
        return json.back()["content"].get<std::string>();
    }
    if (json.is_object() && json.contains("completion")) {
        return completion_text(json["completion"]);
    }
    return std::nullopt;
}

}  // namespace

std::vector<nlohmann::json> read_items(const std::filesystem::path & file) {
    std::vector<nlohmann::json> items;
    for_each_line(file, "items", [&](const nlohmann::json & row, std::size_t) { items.push_back(ground_truth_of(row)); });
    return items;
}

std::vector<CompletionLine> read_completions(const std::filesystem::path & file, std::size_t item_count,
                                             std::size_t group_size) {
    std::vector<CompletionLine> completions;
    for_each_line(file, "completions", [&](const nlohmann::json & json, std::size_t number) {
        const auto text = completion_text(json);
        if (!text) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("completions '{}' line {}: need a string, a message list or {{\"completion\": ...}}",
                                    file.string(), number));
        }
        std::size_t item = completions.size() / group_size;
        if (json.is_object() && json.contains("item")) {
            if (!json["item"].is_number_unsigned()) {
                throw Error(ErrorKind::InvalidInput,
                            fmt::format("completions '{}' line {}: \"item\" must be an item index", file.string(), number));
            }
            item = json["item"].get<std::size_t>();
        }
        if (item >= item_count) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("completions '{}' line {}: item {} does not exist ({} items)", file.string(), number,
                                    item, item_count));
        }
        completions.push_back({*text, item, number});
    });
    return completions;
}

}  // namespace dermlens::rewards
