// Reads a JSON Lines file (samples.jsonl, an export, a data tool's output) as one JSON value per
// line. Test-only helper: a line that does not parse throws, which fails the test.
#pragma once

#include "support/run_process.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace dermlens::test {

inline std::vector<nlohmann::json> read_json_lines(const std::filesystem::path & path) {
    std::istringstream text(read_text_file(path));
    std::vector<nlohmann::json> rows;
    for (std::string line; std::getline(text, line);) {
        rows.push_back(nlohmann::json::parse(line));
    }
    return rows;
}

}  // namespace dermlens::test
