// How the conditions record clinical codes, for the code index (codes.cpp) and check().
#pragma once

#include "dermlens/kb/condition.h"

#include <string_view>

namespace dermlens::kb {

// The match with which `condition` records the code of an index key ("ICD11:2C30", "ICD10:C43").
CodeMatch recorded_match(const Condition & condition, std::string_view key);

}  // namespace dermlens::kb
