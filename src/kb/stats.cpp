#include "kb/stats.h"

#include <map>

namespace dermlens::kb {
namespace {

// The child of the root that `id` descends from (the root stands for itself).
std::string family_of(const KnowledgeBase & kb, const std::string & id) {
    const std::vector<std::string> path = kb.path_to_root(id);
    return path.size() >= 2 ? path[path.size() - 2] : path.back();
}

void count_condition(const KnowledgeBase & kb, const Condition & condition, FamilyStats & stats) {
    ++stats.conditions;
    stats.synonyms += condition.synonyms.size();
    stats.icd11 += condition.icd11.empty() ? 0 : 1;
    stats.icd11_broader += !condition.icd11.empty() && condition.icd11_match == CodeMatch::Broader ? 1 : 0;
    stats.icd11_absent += condition.icd11_absent.empty() ? 0 : 1;
    stats.icd10 += condition.icd10.empty() ? 0 : 1;
    stats.icd10_broader += !condition.icd10.empty() && condition.icd10_match == CodeMatch::Broader ? 1 : 0;
    stats.infectious += kb.infectious(condition.id) ? 1 : 0;
    stats.with_malignancy += kb.malignancy(condition.id).has_value() ? 1 : 0;
    stats.described += condition.description.has_value() ? 1 : 0;
}

LabelSetStats label_set_stats(const KnowledgeBase & kb, const LabelSet & set) {
    LabelSetStats stats{set.name, set.labels.size()};
    for (const Label & label : set.labels) {
        if (!kb.contains(label.condition)) {
            continue;  // check()'s to report
        }
        const Condition & condition = kb.condition(label.condition);
        stats.described += condition.description.has_value() ? 1 : 0;
        stats.with_ddx += kb.neighbours(label.condition).size() >= 2 ? 1 : 0;
        stats.coded += condition.icd11.empty() && condition.icd10.empty() ? 0 : 1;
        stats.icd11 += condition.icd11.empty() ? 0 : 1;
    }
    return stats;
}

}  // namespace

KbStats compute_stats(const KnowledgeBase & kb) {
    KbStats stats;
    stats.total.id = "total";
    std::map<std::string, FamilyStats> families;
    std::map<std::string, std::string> family_by_id;
    for (const std::string & id : kb.condition_ids()) {
        const std::string family = family_of(kb, id);
        family_by_id.emplace(id, family);
        FamilyStats & entry = families[family];
        entry.id = family;
        count_condition(kb, kb.condition(id), entry);
        count_condition(kb, kb.condition(id), stats.total);
    }
    for (const DdxEdge & edge : kb.edges()) {
        const auto first = family_by_id.find(edge.first);
        const auto second = family_by_id.find(edge.second);
        if (first == family_by_id.end() || second == family_by_id.end()) {
            continue;  // a dangling edge: check()'s to report
        }
        ++stats.total.ddx_edges;
        ++families[first->second].ddx_edges;
        if (second->second != first->second) {
            ++families[second->second].ddx_edges;
        }
    }
    for (auto & [id, entry] : families) {
        stats.families.push_back(std::move(entry));
    }
    for (const std::string & name : kb.label_set_names()) {
        stats.label_sets.push_back(label_set_stats(kb, kb.label_set(name)));
    }
    return stats;
}

std::vector<std::string> uncoded_conditions(const KnowledgeBase & kb) {
    std::vector<std::string> uncoded;
    for (const std::string & id : kb.condition_ids()) {
        const Condition & condition = kb.condition(id);
        if (condition.icd11.empty() && condition.icd11_absent.empty()) {
            uncoded.push_back(id);
        }
    }
    return uncoded;
}

}  // namespace dermlens::kb
