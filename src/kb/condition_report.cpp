#include "kb/condition_report.h"

namespace dermlens::kb {
namespace {

using nlohmann::ordered_json;

ordered_json optional_text(const std::optional<std::string> & text) {
    return text ? ordered_json(*text) : ordered_json(nullptr);
}

ordered_json description_json(const std::optional<Description> & description) {
    if (!description) {
        return nullptr;
    }
    return {{"location", description->location},
            {"lesion_type", description->lesion_type},
            {"shape_border", description->shape_border},
            {"colour", description->colour},
            {"texture", description->texture}};
}

}  // namespace

ordered_json condition_report(const KnowledgeBase & base, std::string_view id) {
    const Condition & condition = base.condition(id);
    const auto malignancy = base.malignancy(id);
    ordered_json uses = ordered_json::array();
    for (const auto & use : base.label_uses(id)) {
        uses.push_back({{"label_set", use.label_set}, {"label", use.label}});
    }
    return {{"id", std::string(id)},
            {"name", condition.name},
            {"synonyms", condition.synonyms},
            {"parent", optional_text(base.parent(id))},
            {"path_to_root", base.path_to_root(id)},
            {"depth", base.depth(id)},
            {"children", base.children(id)},
            {"malignancy", malignancy ? ordered_json(malignancy_name(*malignancy)) : ordered_json(nullptr)},
            {"malignancy_inherited", malignancy.has_value() && !condition.malignancy.has_value()},
            {"infectious", base.infectious(id)},
            {"icd11", condition.icd11.empty() ? ordered_json(nullptr) : ordered_json(condition.icd11)},
            {"icd10", condition.icd10.empty() ? ordered_json(nullptr) : ordered_json(condition.icd10)},
            {"description", description_json(condition.description)},
            {"ddx", base.neighbours(id)},
            {"label_sets", uses}};
}

}  // namespace dermlens::kb
