// kb::compute_stats on the mini fixture KB (counts checked by hand against its files), and the
// clinical codes and infectious flag of the shipped knowledge base.
#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "kb/stats.h"
#include "kb_fixtures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace {

using dermlens::kb::FamilyStats;
using dermlens::kb::KnowledgeBase;
using dermlens::test::mini_kb;

const KnowledgeBase & shipped() {
    static const KnowledgeBase base = KnowledgeBase::load({KnowledgeBase::shipped_dir()});
    return base;
}

const FamilyStats & family(const dermlens::kb::KbStats & stats, const std::string & id) {
    const auto it = std::find_if(stats.families.begin(), stats.families.end(),
                                 [&](const FamilyStats & entry) { return entry.id == id; });
    if (it == stats.families.end()) {
        throw std::runtime_error("no family " + id);
    }
    return *it;
}

TEST(KbStats, CountsEachFamilyOfTheMiniKb) {
    const auto stats = dermlens::kb::compute_stats(mini_kb());
    EXPECT_EQ(stats.total.conditions, 31u);
    EXPECT_EQ(stats.total.ddx_edges, 11u);
    EXPECT_EQ(stats.total.described, 6u);
    EXPECT_EQ(stats.total.infectious, 5u) << "infectious_disease and its four conditions";
    EXPECT_EQ(stats.total.icd11, 1u);
    // melanocytic_lesion, nevus, blue_nevus, melanoma and its three subtypes; synonyms 2 + 2 + 1 + 1.
    const FamilyStats & melanocytic = family(stats, "melanocytic_lesion");
    EXPECT_EQ(melanocytic.conditions, 7u);
    EXPECT_EQ(melanocytic.synonyms, 6u);
    EXPECT_EQ(melanocytic.described, 2u);
    EXPECT_EQ(melanocytic.ddx_edges, 4u) << "melanoma-nevus, melanoma-SK, melanoma-BCC, nevus-SK";
    EXPECT_EQ(family(stats, "keratinocytic_lesion").ddx_edges, 6u);
    std::size_t conditions = 0;
    for (const FamilyStats & entry : stats.families) {
        conditions += entry.conditions;
    }
    EXPECT_EQ(conditions, stats.total.conditions) << "every condition is in exactly one family";
    EXPECT_EQ(stats.label_sets.size(), mini_kb().label_set_names().size());
}

TEST(KbCodes, ShowAndResolveTakeIcdCodes) {
    EXPECT_EQ(shipped().resolve("2C30"), "melanoma");
    EXPECT_EQ(shipped().resolve("ICD11:2C30"), "melanoma");
    EXPECT_EQ(shipped().resolve("ICD-11 EA90"), "psoriasis");
    EXPECT_EQ(shipped().resolve("ICD10:C43"), "melanoma");
    EXPECT_EQ(shipped().resolve("l40.0"), "plaque_psoriasis");
    EXPECT_EQ(shipped().resolve("4A40.0"), "systemic_lupus_erythematosus");
    EXPECT_EQ(shipped().condition("basal_cell_carcinoma").icd11, "2C32");
    EXPECT_EQ(shipped().find_code("ICD10:Z99"), std::nullopt) << "a well-formed code no condition records";
    EXPECT_EQ(shipped().find_code("melanoma"), std::nullopt) << "not a code";
    EXPECT_THROW(shipped().resolve("ICD11:9Z99"), dermlens::Error);
}

TEST(KbCodes, InfectiousIsInheritedAndSetWhereTheTreeDisagrees) {
    EXPECT_TRUE(shipped().infectious("impetigo"));
    EXPECT_TRUE(shipped().infectious("tinea_pedis"));
    EXPECT_TRUE(shipped().infectious("scabies")) << "an infestation that spreads between people";
    EXPECT_TRUE(shipped().infectious("onychomycosis")) << "filed under nail disorders, but a fungal infection";
    EXPECT_FALSE(shipped().infectious("insect_bite"));
    EXPECT_FALSE(shipped().infectious("psoriasis"));
    EXPECT_FALSE(shipped().infectious("kaposi_sarcoma"));
    EXPECT_TRUE(mini_kb().infectious("herpes_zoster")) << "inherited from infectious_disease";
    EXPECT_FALSE(mini_kb().infectious("onychomycosis")) << "no ancestor sets it: false";
}

}  // namespace
