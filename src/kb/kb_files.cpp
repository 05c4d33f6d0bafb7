#include "kb/kb_files.h"

#include "dermlens/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace dermlens::kb {
namespace {

using nlohmann::json;

// The five visual criteria of paper 000, in Description's member order.
constexpr std::array<std::string_view, 5> kDescriptionFields{"location", "lesion_type", "shape_border", "colour",
                                                             "texture"};

// A JSON object read field by field; every complaint names the file and where in it.
class ObjectReader {
public:
    ObjectReader(const json & value, std::filesystem::path file, std::string where)
        : value_(value), file_(std::move(file)), where_(std::move(where)) {
        if (!value_.is_object()) {
            fail(fmt::format("expected an object, found {}", value_.type_name()));
        }
    }

    [[noreturn]] void fail(std::string_view what) const {
        const std::string location = where_.empty() ? "" : where_ + ": ";
        throw Error(ErrorKind::InvalidInput, fmt::format("kb file '{}': {}{}", file_.string(), location, what));
    }

    // Refuses fields outside `known`: a misspelt optional field would otherwise be silently ignored.
    void refuse_unknown_fields(std::initializer_list<std::string_view> known) const {
        for (const auto & [key, field] : value_.items()) {
            if (std::find(known.begin(), known.end(), key) == known.end()) {
                fail(fmt::format("unknown field '{}'", key));
            }
        }
    }

    const json * find(std::string_view key) const {
        const auto it = value_.find(key);
        return it == value_.end() ? nullptr : &*it;
    }

    const json & required(std::string_view key) const {
        const json * field = find(key);
        if (field == nullptr) {
            fail(fmt::format("missing required field '{}'", key));
        }
        return *field;
    }

    std::string string_of(std::string_view key, const json & field) const {
        if (!field.is_string() || field.get_ref<const std::string &>().empty()) {
            fail(fmt::format("field '{}' must be a non-empty string, found {}", key, field.dump()));
        }
        return field.get<std::string>();
    }

    std::string required_string(std::string_view key) const { return string_of(key, required(key)); }

    std::optional<std::string> optional_string(std::string_view key) const {
        const json * field = find(key);
        return field == nullptr ? std::nullopt : std::optional(string_of(key, *field));
    }

    const json & required_array(std::string_view key) const {
        const json & field = required(key);
        if (!field.is_array()) {
            fail(fmt::format("field '{}' must be an array, found {}", key, field.type_name()));
        }
        return field;
    }

    std::vector<std::string> optional_strings(std::string_view key) const {
        const json * field = find(key);
        if (field == nullptr) {
            return {};
        }
        if (!field->is_array()) {
            fail(fmt::format("field '{}' must be an array of strings, found {}", key, field->type_name()));
        }
        std::vector<std::string> strings;
        for (const json & item : *field) {
            strings.push_back(string_of(key, item));
        }
        return strings;
    }

    bool optional_bool(std::string_view key, bool fallback) const {
        const json * field = find(key);
        if (field == nullptr) {
            return fallback;
        }
        if (!field->is_boolean()) {
            fail(fmt::format("field '{}' must be true or false, found {}", key, field->dump()));
        }
        return field->get<bool>();
    }

private:
    const json & value_;
    std::filesystem::path file_;
    std::string where_;
};

json parse_file(const std::filesystem::path & file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::InvalidInput, fmt::format("kb file '{}': cannot read it", file.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    try {
        return json::parse(text.str());
    } catch (const json::exception & e) {
        // parse_error, or out_of_range.406 for a number beyond double ("1e400").
        // Drop nlohmann's "[json.exception.parse_error.101] " prefix: the rest says where and why.
        const std::string_view what = e.what();
        const std::size_t end_of_tag = what.find("] ");
        const std::string_view reason = end_of_tag == std::string_view::npos ? what : what.substr(end_of_tag + 2);
        throw Error(ErrorKind::InvalidInput, fmt::format("kb file '{}': malformed JSON: {}", file.string(), reason));
    }
}

// The file's top-level object, after checking its schema string.
json parse_top_level(const std::filesystem::path & file, std::string_view schema,
                     std::initializer_list<std::string_view> fields) {
    json document = parse_file(file);
    const ObjectReader top(document, file, "");
    top.refuse_unknown_fields(fields);
    const std::string found = top.required_string("schema");
    if (found != schema) {
        top.fail(fmt::format("schema is '{}', expected '{}'", found, schema));
    }
    return document;
}

bool is_valid_id(const std::string & id) {
    return std::all_of(id.begin(), id.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

Description read_description(const ObjectReader & condition) {
    const json & value = condition.required("description");
    if (!value.is_object()) {
        condition.fail(fmt::format("field 'description' must be an object, found {}", value.type_name()));
    }
    for (const auto & [key, field] : value.items()) {
        if (std::find(kDescriptionFields.begin(), kDescriptionFields.end(), key) == kDescriptionFields.end()) {
            condition.fail(fmt::format("unknown field 'description.{}'", key));
        }
    }
    std::array<std::string, kDescriptionFields.size()> sentences;
    for (std::size_t i = 0; i < kDescriptionFields.size(); ++i) {
        const std::string key = fmt::format("description.{}", kDescriptionFields[i]);
        const auto it = value.find(kDescriptionFields[i]);
        if (it == value.end()) {
            condition.fail(fmt::format("missing required field '{}'", key));
        }
        sentences[i] = condition.string_of(key, *it);
    }
    return {sentences[0], sentences[1], sentences[2], sentences[3], sentences[4]};
}

// The code in `field` ("icd11"), checked by `is_code`; empty when the field is absent.
std::string read_code(const ObjectReader & reader, const std::string & field, bool (*is_code)(std::string_view),
                      std::string_view expected) {
    std::string code = reader.optional_string(field).value_or("");
    if (!code.empty() && !is_code(code)) {
        reader.fail(fmt::format("{} '{}' is not {}", field, code, expected));
    }
    return code;
}

// "<field>_match": exact (the default) or broader; only next to the code it qualifies.
CodeMatch read_code_match(const ObjectReader & reader, const std::string & field) {
    const auto text = reader.optional_string(field + "_match");
    if (!text) {
        return CodeMatch::Exact;
    }
    if (reader.find(field) == nullptr) {
        reader.fail(fmt::format("{}_match is set, but there is no {} code", field, field));
    }
    const auto match = parse_code_match(*text);
    if (!match) {
        reader.fail(fmt::format("{}_match is '{}', expected exact or broader", field, *text));
    }
    return *match;
}

// "icd11_absent": why the condition records no ICD-11 code. A reason and a code contradict each other,
// and a blank reason explains nothing.
std::string read_icd11_absent(const ObjectReader & reader, const std::string & icd11) {
    const std::string reason = reader.optional_string("icd11_absent").value_or("");
    if (!reason.empty() && reason.find_first_not_of(" \t\r\n") == std::string::npos) {
        reader.fail("icd11_absent is blank: say why the condition has no ICD-11 code");
    }
    if (!reason.empty() && !icd11.empty()) {
        reader.fail(fmt::format("icd11_absent is set, but the condition records icd11 '{}' (a code or a reason why "
                                "there is none, not both)",
                                icd11));
    }
    return reason;
}

Condition read_condition(const json & value, const std::filesystem::path & file, std::size_t index) {
    const std::string where = fmt::format("conditions[{}]", index);
    const ObjectReader untitled(value, file, where);
    const std::string id = untitled.required_string("id");
    const ObjectReader reader(value, file, fmt::format("{} (id '{}')", where, id));
    if (!is_valid_id(id)) {
        reader.fail("id must be lower-case letters, digits and underscores");
    }
    reader.refuse_unknown_fields(
        {"id", "name", "parent", "synonyms", "malignancy", "infectious", "icd11", "icd11_match", "icd11_absent",
         "icd10", "icd10_match", "description"});
    Condition condition;
    condition.id = id;
    condition.name = reader.required_string("name");
    condition.parent = reader.optional_string("parent").value_or("");
    condition.synonyms = reader.optional_strings("synonyms");
    if (const auto malignancy = reader.optional_string("malignancy")) {
        condition.malignancy = parse_malignancy(*malignancy);
        if (!condition.malignancy) {
            reader.fail(fmt::format("malignancy is '{}', expected benign, malignant or precancerous", *malignancy));
        }
    }
    if (reader.find("infectious") != nullptr) {
        condition.infectious = reader.optional_bool("infectious", false);
    }
    condition.icd11 =
        read_code(reader, "icd11", is_icd11_code, "an ICD-11 MMS code (a stem code like 2C30 or EA90.5Y)");
    condition.icd11_match = read_code_match(reader, "icd11");
    condition.icd11_absent = read_icd11_absent(reader, condition.icd11);
    condition.icd10 = read_code(reader, "icd10", is_icd10_code, "an ICD-10 code (like C43 or L40.0)");
    condition.icd10_match = read_code_match(reader, "icd10");
    if (reader.find("description") != nullptr) {
        condition.description = read_description(reader);
    }
    condition.file = file;
    return condition;
}

}  // namespace

std::vector<Condition> read_conditions_file(const std::filesystem::path & file) {
    const json document = parse_top_level(file, kConditionsSchema, {"schema", "conditions"});
    const json & items = ObjectReader(document, file, "").required_array("conditions");
    std::vector<Condition> conditions;
    for (std::size_t i = 0; i < items.size(); ++i) {
        conditions.push_back(read_condition(items[i], file, i));
    }
    return conditions;
}

std::vector<DdxEdge> read_ddx_file(const std::filesystem::path & file) {
    const json document = parse_top_level(file, kDdxSchema, {"schema", "edges"});
    const ObjectReader top(document, file, "");
    const json & items = top.required_array("edges");
    std::vector<DdxEdge> edges;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const json & pair = items[i];
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
            top.fail(fmt::format("edges[{}] must be a pair of condition ids, found {}", i, pair.dump()));
        }
        edges.push_back({pair[0].get<std::string>(), pair[1].get<std::string>(), file, i});
    }
    return edges;
}

LabelSet read_label_set_file(const std::filesystem::path & file) {
    const json document = parse_top_level(file, kLabelSetSchema,
                                          {"schema", "name", "title", "source", "described", "labels"});
    const ObjectReader top(document, file, "");
    LabelSet set;
    set.name = top.required_string("name");
    set.title = top.optional_string("title").value_or("");
    set.source = top.optional_string("source").value_or("");
    set.described = top.optional_bool("described", false);
    const json & items = top.required_array("labels");
    for (std::size_t i = 0; i < items.size(); ++i) {
        const ObjectReader label(items[i], file, fmt::format("labels[{}]", i));
        label.refuse_unknown_fields({"label", "condition", "same_condition_as"});
        set.labels.push_back({label.required_string("label"), label.required_string("condition"),
                              label.optional_string("same_condition_as").value_or("")});
    }
    set.file = file;
    return set;
}

}  // namespace dermlens::kb
