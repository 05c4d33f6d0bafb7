// The lesion description of describe-then-decide (paper 000 section 3.2): the model
// describes what it sees as a JSON object, generated under a GBNF grammar
// (data/grammars/description-<schema>.gbnf) so that it always parses and always ends
// within max_description_tokens().
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dermlens::pipeline {

// FiveCriteria: paper 000's location, lesion type, shape/border, colour, texture.
// SkinFlow: the 12-field caption schema of paper 003 appendix A.
enum class DescriptionSchema { FiveCriteria, SkinFlow };

// "five-criteria" | "skinflow"; parse throws Error(InvalidArgument) naming the text and the choices.
std::string_view schema_name(DescriptionSchema schema) noexcept;
DescriptionSchema parse_schema(std::string_view name);

// The JSON keys in the order the grammar writes them.
const std::vector<std::string> & description_fields(DescriptionSchema schema);

// The most characters one value may have under the grammar. Five-criteria values must be
// non-empty ("not visible" when a criterion cannot be judged); SkinFlow values may be
// empty, as that schema leaves absent features empty.
constexpr std::size_t max_value_chars(DescriptionSchema schema) noexcept {
    return schema == DescriptionSchema::FiveCriteria ? 80 : 60;
}

// A generation budget that no output of the grammar exceeds. The grammar allows printable
// ASCII only, and every token the grammar lets through writes at least one byte, so the
// tokens are at most the bytes of the longest output plus the end-of-generation token:
// five-criteria 484 + 1, SkinFlow 967 + 1 (tests/pipeline/test_prompt.cpp checks both
// against the grammars themselves).
constexpr std::size_t max_description_tokens(DescriptionSchema schema) noexcept {
    return schema == DescriptionSchema::FiveCriteria ? 512 : 1024;
}

// The GBNF text of the schema's grammar, read from <data_dir()>/grammars/; throws
// Error(InvalidInput) naming the file when it cannot be read.
std::string description_grammar(DescriptionSchema schema);

struct LesionDescription {
    DescriptionSchema schema = DescriptionSchema::FiveCriteria;
    std::vector<std::pair<std::string, std::string>> fields;  // name -> value, in description_fields() order
};

// Reads the model's JSON description. Throws Error(InvalidInput) quoting the text when it
// is not a JSON object with exactly the schema's fields, each a string (non-empty for
// five-criteria).
LesionDescription parse_description(std::string_view json, DescriptionSchema schema);

// {"location": "...", ...} in field order.
nlohmann::ordered_json to_json(const LesionDescription & description);

}  // namespace dermlens::pipeline
