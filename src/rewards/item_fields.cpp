#include "rewards/item_fields.h"

#include "dermlens/error.h"

#include <fmt/format.h>

namespace dermlens::rewards {
namespace {

const nlohmann::json & member(const nlohmann::json & item, std::string_view key) {
    const auto it = item.find(key);
    if (it == item.end()) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("item.{}: missing", key), std::string(key));
    }
    return *it;
}

[[noreturn]] void wrong_type(std::string_view key, std::string_view expected) {
    throw Error(ErrorKind::InvalidArgument, fmt::format("item.{}: must be {}", key, expected), std::string(key));
}

}  // namespace

const nlohmann::json & item_object(const nlohmann::json & item, nlohmann::json & storage) {
    if (item.is_object()) {
        return item;
    }
    if (item.is_string()) {
        storage = nlohmann::json::parse(item.get_ref<const std::string &>(), nullptr, /*allow_exceptions=*/false);
        if (storage.is_object()) {
            return storage;
        }
    }
    throw Error(ErrorKind::InvalidArgument, "item: must be a JSON object or a string holding one", "item");
}

std::string string_field(const nlohmann::json & item, std::string_view key, bool required) {
    const auto it = item.find(key);
    if (it == item.end() && !required) {
        return {};
    }
    const auto & value = member(item, key);
    if (!value.is_string()) {
        wrong_type(key, "a string");
    }
    return value.get<std::string>();
}

std::vector<std::string> string_list_field(const nlohmann::json & item, std::string_view key) {
    const auto & value = member(item, key);
    if (!value.is_array()) {
        wrong_type(key, "a list of strings");
    }
    std::vector<std::string> out;
    for (const auto & entry : value) {
        if (!entry.is_string()) {
            wrong_type(key, "a list of strings");
        }
        out.push_back(entry.get<std::string>());
    }
    return out;
}

std::vector<double> number_list_field(const nlohmann::json & item, std::string_view key) {
    const auto & value = member(item, key);
    if (!value.is_array()) {
        wrong_type(key, "a list of numbers");
    }
    std::vector<double> out;
    for (const auto & entry : value) {
        if (!entry.is_number()) {
            wrong_type(key, "a list of numbers");
        }
        out.push_back(entry.get<double>());
    }
    return out;
}

}  // namespace dermlens::rewards
