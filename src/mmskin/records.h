// The JSON Lines files the `dermlens data` tools read and write (docs/data-tools.md): one JSON
// object per line — a figure ("figure", "caption", "images", optional "modality") before
// caption splitting, an image-caption pair ("image", "caption", "figure", "panel", "modality",
// and what later tools add: "age", "sex", "flags", "width", "height", "qa") after it. Fields a
// tool does not know are kept.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace dermlens::mmskin {

using Record = nlohmann::ordered_json;

// Every non-blank line as an object. Throws Error(InvalidInput) naming the file and line of a
// line that is not a JSON object, or of an object without a string `required` field.
std::vector<Record> read_records(const std::filesystem::path & file, const std::vector<std::string> & required);

// One object per line, replaced atomically.
void write_records(const std::filesystem::path & file, const std::vector<Record> & records);

}  // namespace dermlens::mmskin
