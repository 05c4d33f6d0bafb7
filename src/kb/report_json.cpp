#include "kb/report_json.h"

namespace dermlens::kb {
namespace {

using nlohmann::ordered_json;

ordered_json optional_text(const std::optional<std::string> & text) {
    return text ? ordered_json(*text) : ordered_json(nullptr);
}

// null when the condition records no such code or reason.
ordered_json text_or_null(const std::string & text) {
    return text.empty() ? ordered_json(nullptr) : ordered_json(text);
}

ordered_json code_match_json(const std::string & code, CodeMatch match) {
    return code.empty() ? ordered_json(nullptr) : ordered_json(code_match_name(match));
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

ordered_json condition_json(const KnowledgeBase & base, const std::string & id) {
    const Condition & condition = base.condition(id);
    const auto malignancy = base.malignancy(id);
    ordered_json uses = ordered_json::array();
    for (const auto & use : base.label_uses(id)) {
        uses.push_back({{"label_set", use.label_set}, {"label", use.label}});
    }
    return {{"id", id},
            {"name", condition.name},
            {"synonyms", condition.synonyms},
            {"parent", optional_text(base.parent(id))},
            {"path_to_root", base.path_to_root(id)},
            {"depth", base.depth(id)},
            {"children", base.children(id)},
            {"malignancy", malignancy ? ordered_json(malignancy_name(*malignancy)) : ordered_json(nullptr)},
            {"malignancy_inherited", malignancy.has_value() && !condition.malignancy.has_value()},
            {"infectious", base.infectious(id)},
            {"icd11", text_or_null(condition.icd11)},
            {"icd11_match", code_match_json(condition.icd11, condition.icd11_match)},
            {"icd11_absent", text_or_null(condition.icd11_absent)},
            {"icd10", text_or_null(condition.icd10)},
            {"icd10_match", code_match_json(condition.icd10, condition.icd10_match)},
            {"description", description_json(condition.description)},
            {"ddx", base.neighbours(id)},
            {"label_sets", uses}};
}

ordered_json label_set_json(const KnowledgeBase & base, const LabelSet & set) {
    ordered_json labels = ordered_json::array();
    for (const auto & label : set.labels) {
        labels.push_back(
            {{"label", label.label}, {"condition", label.condition}, {"name", base.condition(label.condition).name}});
    }
    return {{"name", set.name}, {"title", set.title}, {"source", set.source}, {"described", set.described},
            {"labels", labels}};
}

}  // namespace dermlens::kb
