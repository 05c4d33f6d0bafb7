// dermlens kb stats [--kb DIR]... [--json]: coverage of the knowledge base per taxonomy family
// and per label set (kb/stats.h)
#include "kb_options.h"

#include "kb/stats.h"

#include <fmt/format.h>

namespace dermlens::cli {
namespace {

using nlohmann::ordered_json;

ordered_json family_json(const kb::FamilyStats & family) {
    return {{"family", family.id},
            {"conditions", family.conditions},
            {"synonyms", family.synonyms},
            {"icd11", family.icd11},
            {"icd11_broader", family.icd11_broader},
            {"icd11_absent", family.icd11_absent},
            {"icd10", family.icd10},
            {"icd10_broader", family.icd10_broader},
            {"infectious", family.infectious},
            {"with_malignancy", family.with_malignancy},
            {"described", family.described},
            {"ddx_edges", family.ddx_edges}};
}

ordered_json stats_json(const kb::KbStats & stats) {
    ordered_json families = ordered_json::array();
    for (const auto & family : stats.families) {
        families.push_back(family_json(family));
    }
    ordered_json sets = ordered_json::array();
    for (const auto & set : stats.label_sets) {
        sets.push_back({{"label_set", set.name},
                        {"labels", set.labels},
                        {"described", set.described},
                        {"with_ddx", set.with_ddx},
                        {"coded", set.coded},
                        {"icd11", set.icd11}});
    }
    return {{"total", family_json(stats.total)}, {"families", families}, {"label_sets", sets}};
}

void print_family(const kb::FamilyStats & family) {
    fmt::print("{:<46} {:>10} {:>8} {:>6} {:>7} {:>6} {:>6} {:>7} {:>10} {:>10} {:>9} {:>9}\n", family.id,
               family.conditions, family.synonyms, family.icd11, family.icd11_broader, family.icd11_absent,
               family.icd10, family.icd10_broader, family.infectious, family.with_malignancy, family.described,
               family.ddx_edges);
}

// icd11 and icd10 count the conditions recording a code; "broader" those of them whose code is a
// category that contains the condition rather than names it; "absent" the conditions recording why
// they have no ICD-11 code (icd11_absent).
void print_stats(const kb::KbStats & stats) {
    fmt::print("{:<46} {:>10} {:>8} {:>6} {:>7} {:>6} {:>6} {:>7} {:>10} {:>10} {:>9} {:>9}\n", "family",
               "conditions", "synonyms", "icd11", "broader", "absent", "icd10", "broader", "infectious", "malignancy",
               "described", "ddx edges");
    for (const auto & family : stats.families) {
        print_family(family);
    }
    print_family(stats.total);
    fmt::print("\n{:<24} {:>7} {:>10} {:>9} {:>6} {:>6}\n", "label set", "labels", "described", "with ddx", "coded",
               "icd11");
    for (const auto & set : stats.label_sets) {
        fmt::print("{:<24} {:>7} {:>10} {:>9} {:>6} {:>6}\n", set.name, set.labels, set.described, set.with_ddx,
                   set.coded, set.icd11);
    }
}

int run_stats(const KbOptions & options) {
    const kb::KnowledgeBase base = options.load();
    const kb::KbStats stats = kb::compute_stats(base);
    if (options.json) {
        print_json(stats_json(stats));
    } else {
        print_stats(stats);
    }
    return 0;
}

}  // namespace

void register_kb_stats(CLI::App & kb, std::vector<Command> & commands) {
    auto stats = std::make_shared<KbOptions>();
    auto * stats_app = kb.add_subcommand("stats", "Coverage: conditions, synonyms, ICD codes, descriptions and DDx "
                                                   "edges per taxonomy family; descriptions and DDx per label set");
    add_kb_options(*stats_app, *stats);
    commands.push_back({stats_app, [stats] { return run_stats(*stats); }});
}

}  // namespace dermlens::cli
