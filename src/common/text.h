// Small text helpers shared by the parsers (labels, answers, manifests).
#pragma once

#include <string>
#include <string_view>

namespace dermlens {

// `text` with ASCII letters in lower case (other bytes, UTF-8 included, unchanged).
std::string ascii_lower(std::string_view text);

}  // namespace dermlens
