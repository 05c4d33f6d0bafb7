#include "dermlens/request_json.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

namespace dermlens {
namespace {

using nlohmann::json;

[[noreturn]] void refuse(const std::string & key, const std::string & reason) {
    throw Error(ErrorKind::InvalidArgument, fmt::format("{}: {}", key, reason), key);
}

std::string type_of(const json & value) {
    return value.type_name();
}

std::string text(const std::string & key, const json & value) {
    if (!value.is_string()) {
        refuse(key, fmt::format("expected a string, got {}", type_of(value)));
    }
    return value.get<std::string>();
}

// A number, or a string that is exactly one (form fields are text).
double number(const std::string & key, const json & value) {
    if (value.is_number()) {
        return value.get<double>();
    }
    if (value.is_string()) {
        const std::string & given = value.get_ref<const std::string &>();
        double parsed = 0;
        const auto [end, ec] = std::from_chars(given.data(), given.data() + given.size(), parsed);
        if (!given.empty() && ec == std::errc() && end == given.data() + given.size()) {
            return parsed;
        }
        refuse(key, fmt::format("expected a number, got '{}'", given));
    }
    refuse(key, fmt::format("expected a number, got {}", type_of(value)));
}

// Range first: a double beyond long long's range (or NaN) has no integer value, and converting it
// would be undefined behaviour.
long long whole(const std::string & key, const json & value, long long low, long long high) {
    const double given = number(key, value);
    if (given != std::trunc(given)) {
        refuse(key, fmt::format("expected a whole number, got {}", given));
    }
    if (!(given >= static_cast<double>(low) && given <= static_cast<double>(high))) {
        refuse(key, fmt::format("{} is out of range {}..{}", given, low, high));
    }
    return static_cast<long long>(given);
}

// A temperature within float's range (a double beyond it has no float value: converting it is
// undefined, and the infinity IEEE hardware gives would pass validation).
float temperature(const std::string & key, const json & value) {
    const double given = number(key, value);
    if (!(std::abs(given) <= std::numeric_limits<float>::max())) {
        refuse(key, fmt::format("{} is out of range", given));
    }
    return static_cast<float>(given);
}

bool boolean(const std::string & key, const json & value) {
    if (value.is_boolean()) {
        return value.get<bool>();
    }
    if (value.is_string()) {
        const std::string & given = value.get_ref<const std::string &>();
        if (given == "true" || given == "1" || given == "on") return true;
        if (given == "false" || given == "0" || given == "off" || given.empty()) return false;
        refuse(key, fmt::format("expected true or false, got '{}'", given));
    }
    refuse(key, fmt::format("expected true or false, got {}", type_of(value)));
}

// An array of names, or one string of comma-separated names (spaces around them dropped).
std::vector<std::string> names(const std::string & key, const json & value) {
    std::vector<std::string> result;
    const auto add = [&](std::string name) {
        const auto first = name.find_first_not_of(" \t");
        const auto last = name.find_last_not_of(" \t");
        if (first == std::string::npos) {
            refuse(key, "an empty name");
        }
        result.push_back(name.substr(first, last - first + 1));
    };
    if (value.is_array()) {
        for (const auto & item : value) {
            add(text(key, item));
        }
    } else if (value.is_string()) {
        const std::string & given = value.get_ref<const std::string &>();
        std::size_t start = 0;
        while (start <= given.size()) {
            const auto comma = std::min(given.find(',', start), given.size());
            add(given.substr(start, comma - start));
            start = comma + 1;
        }
    } else {
        refuse(key, fmt::format("expected an array of names or a comma-separated string, got {}", type_of(value)));
    }
    return result;
}

void attention_layers(DiagnoseRequest & request, const std::string & key, const json & value) {
    const std::string given = text(key, value);
    const auto colon = given.find(':');
    if (colon == std::string::npos) {
        refuse(key, fmt::format("expected FIRST:LAST, e.g. 0:33, got '{}'", given));
    }
    const int limit = std::numeric_limits<int>::max();
    request.attention.first_layer = static_cast<int>(whole(key, json(given.substr(0, colon)), 0, limit));
    request.attention.last_layer = static_cast<int>(whole(key, json(given.substr(colon + 1)), 0, limit));
}

using Setter = std::function<void(DiagnoseRequest &, const std::string &, const json &)>;

const std::vector<std::pair<std::string, Setter>> & setters() {
    static const std::vector<std::pair<std::string, Setter>> table = {
        {"labels", [](auto & r, auto & k, auto & v) { r.labels = names(k, v); }},
        {"label_set", [](auto & r, auto & k, auto & v) { r.label_set = text(k, v); }},
        {"strategy", [](auto & r, auto & k, auto & v) { r.strategy = text(k, v); }},
        {"style", [](auto & r, auto & k, auto & v) { r.style = text(k, v); }},
        {"schema", [](auto & r, auto & k, auto & v) { r.schema = text(k, v); }},
        {"decide", [](auto & r, auto & k, auto & v) { r.decide = text(k, v); }},
        {"candidates", [](auto & r, auto & k, auto & v) { r.candidates = text(k, v); }},
        {"top_k", [](auto & r, auto & k, auto & v) { r.top_k = static_cast<std::size_t>(whole(k, v, 1, 1000)); }},
        {"alpha", [](auto & r, auto & k, auto & v) { r.alpha = number(k, v); }},
        {"not_sure", [](auto & r, auto & k, auto & v) { r.not_sure = boolean(k, v); }},
        {"abstain_below", [](auto & r, auto & k, auto & v) { r.abstain_below = number(k, v); }},
        {"shuffle_options", [](auto & r, auto & k, auto & v) { r.shuffle_options = boolean(k, v); }},
        {"seed", [](auto & r, auto & k, auto & v) { r.seed = static_cast<std::uint32_t>(whole(k, v, 0, 0xffffffffLL)); }},
        {"temperature", [](auto & r, auto & k, auto & v) { r.temperature = temperature(k, v); }},
        {"max_tokens", [](auto & r, auto & k, auto & v) { r.max_tokens = static_cast<int>(whole(k, v, 1, 4096)); }},
        {"age", [](auto & r, auto & k, auto & v) { r.context.age = static_cast<int>(whole(k, v, 0, 120)); }},
        {"sex", [](auto & r, auto & k, auto & v) { r.context.sex = text(k, v); }},
        {"site", [](auto & r, auto & k, auto & v) { r.context.site = text(k, v); }},
        {"history", [](auto & r, auto & k, auto & v) { r.context.history = text(k, v); }},
        {"fitzpatrick", [](auto & r, auto & k, auto & v) { r.context.fitzpatrick = static_cast<int>(whole(k, v, 1, 6)); }},
        {"attention", [](auto & r, auto & k, auto & v) { r.attention.enabled = boolean(k, v); }},
        {"attention_layers", [](auto & r, auto & k, auto & v) { attention_layers(r, k, v); }},
        {"attention_reduce", [](auto & r, auto & k, auto & v) { r.attention.reduce = text(k, v); }},
    };
    return table;
}

}  // namespace

const std::vector<std::string> & diagnose_request_keys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> result;
        for (const auto & [key, setter] : setters()) {
            result.push_back(key);
        }
        return result;
    }();
    return keys;
}

DiagnoseRequest diagnose_request_from_json(const json & options) {
    if (!options.is_object()) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("options: expected a JSON object, got {}", type_of(options)),
                    "options");
    }
    DiagnoseRequest request;
    for (const auto & [key, value] : options.items()) {
        const auto & table = setters();
        const auto found = std::find_if(table.begin(), table.end(), [&](const auto & entry) { return entry.first == key; });
        if (found == table.end()) {
            refuse(key, "unknown option (docs/server.md lists the options)");
        }
        if (!value.is_null()) {
            found->second(request, key, value);
        }
    }
    request.validate();
    return request;
}

}  // namespace dermlens
