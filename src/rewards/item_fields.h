// Reading the fields of a reward item (the JSON ground truth an export wrote) with errors that
// name the field: a bad item is the caller's mistake, Error(InvalidArgument), never a crash.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace dermlens::rewards {

// `item` itself, or the object a JSON string holds (the exports write ground truth as a string),
// parsed into `storage`.
const nlohmann::json & item_object(const nlohmann::json & item, nlohmann::json & storage);

std::string string_field(const nlohmann::json & item, std::string_view key, bool required = true);
std::vector<std::string> string_list_field(const nlohmann::json & item, std::string_view key);
std::vector<double> number_list_field(const nlohmann::json & item, std::string_view key);

}  // namespace dermlens::rewards
