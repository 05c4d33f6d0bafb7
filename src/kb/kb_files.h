// Reading the three kinds of knowledge-base file (docs/kb-schema.md). Each reader
// checks the file's own shape — JSON syntax, the schema string, required fields,
// field types, allowed values, no unknown fields — and throws Error(InvalidInput)
// naming the file and the JSON location. Whether the records fit together
// (parents exist, no cycles, ...) is KnowledgeBase::check()'s business.
#pragma once

#include "dermlens/kb/condition.h"

#include <filesystem>
#include <vector>

namespace dermlens::kb {

inline constexpr const char * kConditionsSchema = "dermlens.kb.conditions/1";
inline constexpr const char * kDdxSchema = "dermlens.kb.ddx/1";
inline constexpr const char * kLabelSetSchema = "dermlens.kb.labelset/1";

std::vector<Condition> read_conditions_file(const std::filesystem::path & file);
std::vector<DdxEdge> read_ddx_file(const std::filesystem::path & file);
LabelSet read_label_set_file(const std::filesystem::path & file);

}  // namespace dermlens::kb
