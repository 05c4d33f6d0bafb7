// kb::compute_stats on the mini fixture KB (counts checked by hand against its files), the clinical
// codes (the code shapes, exact and broader codes on fixtures/codes, the shipped codes) and the
// infectious flag of the shipped knowledge base.
#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "kb/stats.h"
#include "kb_fixtures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace {

using dermlens::kb::CodeMatch;
using dermlens::kb::FamilyStats;
using dermlens::kb::KnowledgeBase;
using dermlens::test::kb_fixtures_dir;
using dermlens::test::mini_kb;
using dermlens::test::mini_kb_dir;
using testing::AllOf;
using testing::HasSubstr;

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
    EXPECT_EQ(stats.total.icd11_absent, 1u) << "melanocytic_lesion says why it has no code";
    // melanocytic_lesion, nevus, blue_nevus, melanoma and its three subtypes; synonyms 2 + 2 + 1 + 1.
    const FamilyStats & melanocytic = family(stats, "melanocytic_lesion");
    EXPECT_EQ(melanocytic.conditions, 7u);
    EXPECT_EQ(melanocytic.synonyms, 6u);
    EXPECT_EQ(melanocytic.described, 2u);
    EXPECT_EQ(melanocytic.icd11_absent, 1u);
    EXPECT_EQ(melanocytic.ddx_edges, 4u) << "melanoma-nevus, melanoma-SK, melanoma-BCC, nevus-SK";
    EXPECT_EQ(family(stats, "keratinocytic_lesion").ddx_edges, 6u);
    std::size_t conditions = 0;
    for (const FamilyStats & entry : stats.families) {
        conditions += entry.conditions;
    }
    EXPECT_EQ(conditions, stats.total.conditions) << "every condition is in exactly one family";
    EXPECT_EQ(stats.label_sets.size(), mini_kb().label_set_names().size());
}

TEST(KbStats, ListsTheConditionsWithNeitherAnIcd11CodeNorAReason) {
    const auto uncoded = dermlens::kb::uncoded_conditions(mini_kb());
    EXPECT_EQ(uncoded.size(), 29u) << "31 conditions; melanoma has a code, melanocytic_lesion a reason";
    EXPECT_THAT(uncoded, testing::Contains("psoriasis"));
    EXPECT_THAT(uncoded, testing::Not(testing::Contains("melanocytic_lesion")));
    EXPECT_THAT(uncoded, testing::Not(testing::Contains("melanoma")));
    EXPECT_TRUE(std::is_sorted(uncoded.begin(), uncoded.end()));
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

TEST(KbCodes, RecognisesTheShapesOfIcdCodes) {
    using dermlens::kb::is_icd10_code;
    using dermlens::kb::is_icd11_code;
    for (const char * code : {"2C30", "EA90", "1C1G", "4A40.0", "EA90.5Y", "2E64.00", "ED80.Y", "1E8Z"}) {
        EXPECT_TRUE(is_icd11_code(code)) << code;
    }
    // Too short or long, a lower-case letter, the letters I and O that ICD-11 never uses, an
    // extension code of chapter X, a dot without a tail.
    for (const char * code : {"2C3", "2C300", "ea90", "EA9O", "1I00", "XA12", "XH12.3", "EA90.", "EA90.123"}) {
        EXPECT_FALSE(is_icd11_code(code)) << code;
    }
    for (const char * code : {"C43", "L40.0", "B35.1"}) {
        EXPECT_TRUE(is_icd10_code(code)) << code;
    }
    for (const char * code : {"C4", "L40.", "L40.01", "4A40", "l40"}) {
        EXPECT_FALSE(is_icd10_code(code)) << code;
    }
}

TEST(KbCodes, BroaderCodesAreSharedAndTheExactConditionOwnsItsCode) {
    const auto base = KnowledgeBase::load({mini_kb_dir(), kb_fixtures_dir() / "codes"});
    EXPECT_TRUE(base.check().empty()) << "siblings share 2C33; a melanoma subtype records 2C30 as broader";
    EXPECT_EQ(base.condition("amelanotic_melanoma").icd11_match, CodeMatch::Broader);
    EXPECT_EQ(base.condition("acral_lentiginous_melanoma").icd11_match, CodeMatch::Exact);
    EXPECT_EQ(base.find_code("2C30"), "melanoma") << "the exact condition, not its subtype";
    EXPECT_EQ(base.find_code("ICD10:C43"), "melanoma");
    EXPECT_EQ(base.find_code("2C30.3"), "acral_lentiginous_melanoma");
    EXPECT_EQ(base.find_code("ICD10:C44"), "sebaceous_carcinoma") << "a broader code only one condition records";
    try {
        base.resolve("2C33");
        ADD_FAILURE() << "a broader code two conditions share names neither";
    } catch (const dermlens::Error & error) {
        EXPECT_THAT(error.what(), AllOf(HasSubstr("ICD11:2C33"), HasSubstr("sebaceous_carcinoma"),
                                        HasSubstr("trichilemmal_carcinoma")));
    }
}

// Every shipped code has its system's shape (the loader refuses others), no code is recorded as
// exact twice, and the conditions of the dataset label sets carry ICD-11 codes.
TEST(KbCodes, ShippedCodesAreWellFormedAndExactOnce) {
    std::map<std::string, std::string> exact_owner;
    std::size_t icd11 = 0;
    for (const auto & id : shipped().condition_ids()) {
        const auto & condition = shipped().condition(id);
        if (!condition.icd11.empty()) {
            ++icd11;
            EXPECT_TRUE(dermlens::kb::is_icd11_code(condition.icd11)) << id << ": " << condition.icd11;
            if (condition.icd11_match == CodeMatch::Exact) {
                EXPECT_TRUE(exact_owner.emplace("ICD11:" + condition.icd11, id).second) << id;
            }
        }
        if (!condition.icd10.empty()) {
            EXPECT_TRUE(dermlens::kb::is_icd10_code(condition.icd10)) << id << ": " << condition.icd10;
            if (condition.icd10_match == CodeMatch::Exact) {
                EXPECT_TRUE(exact_owner.emplace("ICD10:" + condition.icd10, id).second) << id;
            }
        }
    }
    EXPECT_GT(icd11, 500u);
    for (const auto & [code, id] : exact_owner) {
        EXPECT_EQ(shipped().find_code(code), id) << code;
    }
    const auto stats = dermlens::kb::compute_stats(shipped());
    for (const auto & set : stats.label_sets) {
        if (set.name == "ham10000" || set.name == "isic2019" || set.name == "pad-ufes-20" || set.name == "bcn20000") {
            // Umbrella classes (HAM10000's akiec, bkl and vasc, ISIC's "other") have no one ICD-11 category.
            EXPECT_GE(set.icd11 + 3, set.labels) << set.name;
        }
    }
}

// Issue 19: every shipped condition records an ICD-11 code or why it has none.
TEST(KbCodes, EveryShippedConditionHasAnIcd11CodeOrAReason) {
    EXPECT_THAT(dermlens::kb::uncoded_conditions(shipped()), testing::IsEmpty());
    const auto stats = dermlens::kb::compute_stats(shipped());
    EXPECT_EQ(stats.total.icd11 + stats.total.icd11_absent, stats.total.conditions) << "never both";
    EXPECT_EQ(shipped().condition("melanocytic_lesion").icd11_absent,
              "family node of the taxonomy; its members are coded");
}

TEST(KbCodes, ShowTakesAnIcd11CodeOfEachKind) {
    EXPECT_EQ(shipped().resolve("EA90.52"), "inverse_psoriasis");
    EXPECT_EQ(shipped().resolve("ICD-11 2C32.1"), "morpheaform_basal_cell_carcinoma");
    EXPECT_EQ(shipped().resolve("2F21.0"), "seborrheic_keratosis");
    EXPECT_EQ(shipped().resolve("2F20"), "melanocytic_nevus") << "exact, though its subtypes share it as broader";
    EXPECT_EQ(shipped().resolve("1F28.2"), "tinea_pedis");
    EXPECT_EQ(shipped().resolve("ED90.0"), "rosacea");
    EXPECT_THROW(shipped().resolve("ICD10:C44"), dermlens::Error) << "BCC, SCC and others share it as broader";
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
