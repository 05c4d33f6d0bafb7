#include "pipeline/description.h"

#include "dermlens/error.h"
#include "pipeline/data_files.h"

#include <fmt/format.h>

#include <algorithm>

namespace dermlens::pipeline {
namespace {

// Long model output would flood an error message; the start is enough to recognise it.
std::string quoted_start(std::string_view text) {
    constexpr std::size_t kShown = 120;
    return text.size() <= kShown ? fmt::format("'{}'", text) : fmt::format("'{}…'", text.substr(0, kShown));
}

}  // namespace

std::string_view schema_name(DescriptionSchema schema) noexcept {
    return schema == DescriptionSchema::FiveCriteria ? "five-criteria" : "skinflow";
}

DescriptionSchema parse_schema(std::string_view name) {
    for (const auto schema : {DescriptionSchema::FiveCriteria, DescriptionSchema::SkinFlow}) {
        if (name == schema_name(schema)) {
            return schema;
        }
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("description schema '{}': expected five-criteria or skinflow", name));
}

const std::vector<std::string> & description_fields(DescriptionSchema schema) {
    static const std::vector<std::string> five_criteria{"location", "lesion_type", "shape_border", "colour", "texture"};
    // Paper 003 appendix A, in its order.
    static const std::vector<std::string> skinflow{"color",
                                                   "location",
                                                   "shape",
                                                   "lesion_type",
                                                   "number",
                                                   "size",
                                                   "texture",
                                                   "border_characteristics",
                                                   "surface_characteristics",
                                                   "distribution_characteristics",
                                                   "surrounding_characteristics",
                                                   "other"};
    return schema == DescriptionSchema::FiveCriteria ? five_criteria : skinflow;
}

std::string description_grammar(DescriptionSchema schema) {
    return read_grammar(fmt::format("description-{}", schema_name(schema)));
}

LesionDescription parse_description(std::string_view json, DescriptionSchema schema) {
    const auto fail = [&](std::string_view why) {
        return Error(ErrorKind::InvalidInput,
                     fmt::format("{} description {}: {}", schema_name(schema), quoted_start(json), why));
    };
    const auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
        throw fail("not valid JSON");
    }
    if (!parsed.is_object()) {
        throw fail("not a JSON object");
    }
    const auto & fields = description_fields(schema);
    LesionDescription description{schema, {}};
    for (const auto & field : fields) {
        const auto it = parsed.find(field);
        if (it == parsed.end()) {
            throw fail(fmt::format("no \"{}\" field", field));
        }
        if (!it->is_string()) {
            throw fail(fmt::format("\"{}\" is not a string", field));
        }
        auto value = it->get<std::string>();
        if (schema == DescriptionSchema::FiveCriteria && value.empty()) {
            throw fail(fmt::format("\"{}\" is empty", field));
        }
        description.fields.emplace_back(field, std::move(value));
    }
    if (parsed.size() != fields.size()) {
        for (const auto & [key, value] : parsed.items()) {
            if (std::find(fields.begin(), fields.end(), key) == fields.end()) {
                throw fail(fmt::format("unexpected field \"{}\"", key));
            }
        }
    }
    return description;
}

nlohmann::ordered_json to_json(const LesionDescription & description) {
    nlohmann::ordered_json json = nlohmann::ordered_json::object();
    for (const auto & [name, value] : description.fields) {
        json[name] = value;
    }
    return json;
}

}  // namespace dermlens::pipeline
