#include "quality/thresholds.h"

#include "dermlens/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>

namespace dermlens::quality {

const std::vector<std::string> & known_checks() {
    static const std::vector<std::string> names = {
        "resolution", "blur",          "underexposure", "overexposure",    "clipping",    "contrast",
        "noise",      "colour_cast",   "jpeg_blocking", "lesion_in_frame", "lesion_size", "not_skin",
        "brisque"};
    return names;
}

const std::vector<std::string> & known_modalities() {
    static const std::vector<std::string> names = {"clinical", "dermoscopic", "pathology"};
    return names;
}

namespace {

using json = nlohmann::json;

class FieldReader {
public:
    explicit FieldReader(std::filesystem::path file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const std::string & field, const std::string & why) const {
        throw Error(ErrorKind::InvalidInput, fmt::format("quality thresholds '{}': {}: {}", file_.string(), field, why));
    }

    double number(const json & object, const std::string & key, const std::string & where) const {
        const auto it = object.find(key);
        if (it == object.end() || !it->is_number()) fail(where + key, "a number is required");
        return it->get<double>();
    }

    std::string text(const json & object, const std::string & key, const std::string & where) const {
        const auto it = object.find(key);
        if (it == object.end() || !it->is_string() || it->get<std::string>().empty()) {
            fail(where + key, "a non-empty string is required");
        }
        return it->get<std::string>();
    }

private:
    std::filesystem::path file_;
};

std::vector<std::string> applies_to(const json & entry, const std::string & where, const FieldReader & reader) {
    const auto & modalities = known_modalities();
    const auto field = entry.find("applies_to");
    if (field == entry.end()) return modalities;
    if (!field->is_array() || field->empty()) reader.fail(where + "applies_to", "a non-empty array of modalities is required");
    std::vector<std::string> names;
    for (const json & name : *field) {
        if (!name.is_string() || std::find(modalities.begin(), modalities.end(), name.get<std::string>()) == modalities.end()) {
            reader.fail(where + "applies_to", fmt::format("{} is not a modality (known: {})", name.dump(), fmt::join(modalities, ", ")));
        }
        names.push_back(name.get<std::string>());
    }
    return names;
}

CheckThresholds read_check(const json & entry, const std::string & where, const FieldReader & reader) {
    if (!entry.is_object()) reader.fail(where, "each check is an object");
    CheckThresholds check;
    check.name = reader.text(entry, "name", where);
    const auto & names = known_checks();
    if (std::find(names.begin(), names.end(), check.name) == names.end()) {
        reader.fail(where + "name", fmt::format("unknown check '{}' (known: {})", check.name, fmt::join(names, ", ")));
    }
    const std::string worse_when = reader.text(entry, "worse_when", where);
    if (worse_when != "above" && worse_when != "below") reader.fail(where + "worse_when", "must be \"above\" or \"below\"");
    check.worse_above = worse_when == "above";
    check.warn_at = reader.number(entry, "warn_at", where);
    check.reject_at = reader.number(entry, "reject_at", where);
    if (check.worse_above ? check.reject_at < check.warn_at : check.reject_at > check.warn_at) {
        reader.fail(where + "reject_at", fmt::format("must lie {} warn_at, on the worse side", worse_when));
    }
    check.warn_reason = reader.text(entry, "warn_reason", where);
    check.reject_reason = reader.text(entry, "reject_reason", where);
    check.applies_to = applies_to(entry, where, reader);
    return check;
}

}  // namespace

Thresholds load_thresholds(const std::filesystem::path & file) {
    const FieldReader reader(file);
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::InvalidInput, fmt::format("quality thresholds '{}': cannot be read", file.string()));
    const json document = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded() || !document.is_object()) reader.fail("the file", "not a JSON object");
    if (document.value("format", "") != "dermlens-quality-thresholds") {
        reader.fail("format", "must be \"dermlens-quality-thresholds\"");
    }
    if (reader.number(document, "version", "") != 1) reader.fail("version", "only version 1 is known");

    Thresholds thresholds;
    const double side = reader.number(document, "working_side", "");
    if (side < 64 || side > 4096) reader.fail("working_side", "must be 64 to 4096 pixels");
    thresholds.working_side = static_cast<int>(side);
    const auto hues = document.find("skin_hues_degrees");
    if (hues == document.end() || !hues->is_array() || hues->size() != 2 || !(*hues)[0].is_number() ||
        !(*hues)[1].is_number()) {
        reader.fail("skin_hues_degrees", "[lowest, highest] hue angles in degrees are required");
    }
    thresholds.lowest_skin_hue = (*hues)[0].get<double>();
    thresholds.highest_skin_hue = (*hues)[1].get<double>();
    if (thresholds.lowest_skin_hue < -180 || thresholds.highest_skin_hue > 180 ||
        thresholds.lowest_skin_hue >= thresholds.highest_skin_hue) {
        reader.fail("skin_hues_degrees", "must satisfy -180 <= lowest < highest <= 180");
    }
    if (document.contains("brisque_folder")) thresholds.brisque_folder = reader.text(document, "brisque_folder", "");
    const auto checks = document.find("checks");
    if (checks == document.end() || !checks->is_array() || checks->empty()) {
        reader.fail("checks", "a non-empty array is required");
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < checks->size(); ++i) {
        CheckThresholds check = read_check((*checks)[i], fmt::format("checks[{}].", i), reader);
        if (!seen.insert(check.name).second) reader.fail(fmt::format("checks[{}].name", i), "'" + check.name + "' twice");
        thresholds.checks.push_back(std::move(check));
    }
    return thresholds;
}

}  // namespace dermlens::quality
