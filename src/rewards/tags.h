// The tag structure of a reasoning completion, <thinking>...</thinking> <answer-tag>...</answer-tag>
// (paper 002 appendix D): R_format's check and the answer block the other rewards read.
#pragma once

#include "dermlens/rewards.h"

#include <optional>
#include <string>
#include <string_view>

namespace dermlens::rewards {

// 1 when `completion` has the tag structure `params` asks for, else 0.
bool has_tag_structure(std::string_view completion, const SkinR1Params & params);

// The text between the first <tag> and the </tag> after it (tags in any case); none when
// either is missing.
std::optional<std::string> tagged_block(std::string_view completion, std::string_view tag);

}  // namespace dermlens::rewards
