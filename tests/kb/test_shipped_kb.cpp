// The knowledge base dermlens ships (data/kb/): sound, with the label-set sizes
// the datasets define, and the names of issue 3 resolving.
#include "dermlens/kb/knowledge_base.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using dermlens::kb::KnowledgeBase;

const KnowledgeBase & shipped() {
    static const KnowledgeBase base = KnowledgeBase::load({KnowledgeBase::shipped_dir()});
    return base;
}

TEST(ShippedKb, HasNoProblems) {
    std::string listing;
    for (const auto & problem : shipped().check()) {
        listing += problem.to_string() + "\n";
    }
    EXPECT_EQ(listing, "");
}

TEST(ShippedKb, LabelSetSizes) {
    const std::pair<const char *, std::size_t> sizes[] = {
        {"derm7pt-14", 14},        {"derm7pt-20", 20},        {"eskinhealth-24", 24},  {"fitzpatrick17k-20", 20},
        {"fitzpatrick17k-114", 114}, {"fitzpatrick17k-9", 9},  {"fitzpatrick17k-3", 3}, {"sd260", 260},
        {"sd198", 198},            {"ddi", 78},               {"ddi-malignant", 2},   {"pad-ufes-20", 6},
        {"ham10000", 7},           {"isic2019", 8},           {"bcn20000", 8},        {"isic9class", 9},
        {"derm12345-40", 40},      {"derm12345-15", 15},      {"derm12345-5", 5},     {"dermnet-23", 23},
    };
    for (const auto & [name, size] : sizes) {
        const auto names = shipped().label_set_names();
        ASSERT_THAT(names, testing::Contains(name));
        EXPECT_EQ(shipped().label_set(name).labels.size(), size) << name;
    }
}

TEST(ShippedKb, ResolvesTheNamesOfIssue3) {
    EXPECT_EQ(shipped().resolve("Shingles"), "herpes_zoster");
    EXPECT_EQ(shipped().resolve("BCC"), "basal_cell_carcinoma");
    EXPECT_EQ(shipped().resolve("Basal Cell Carcinoma."), "basal_cell_carcinoma");
    EXPECT_EQ(shipped().resolve("naevus"), shipped().resolve("nevus"));
    EXPECT_EQ(shipped().resolve("melanomas"), "melanoma");
    EXPECT_EQ(shipped().resolve("psoriasis"), "psoriasis");
    EXPECT_EQ(shipped().resolve("scabies"), "scabies");
}

// Graded evaluation needs the truth to have a place in the taxonomy and a malignancy class.
TEST(ShippedKb, EveryLabelResolvesToAPlacedConditionWithAMalignancyClass) {
    std::size_t labels = 0;
    for (const auto & name : shipped().label_set_names()) {
        for (const auto & [label, condition, same_condition_as] : shipped().label_set(name).labels) {
            ++labels;
            const std::string id = shipped().resolve(label, name);
            EXPECT_EQ(id, condition) << name << ": " << label;
            EXPECT_EQ(shipped().path_to_root(id).back(), "skin_condition") << name << ": " << label;
            // DermNet's "Melanoma Skin Cancer Nevi and Moles" merges benign and malignant lesions on purpose.
            if (id != "melanocytic_lesion") {
                EXPECT_TRUE(shipped().malignancy(id).has_value()) << name << ": " << label << " -> " << id;
            }
            EXPECT_GE(shipped().neighbours(id).size(), 2u) << name << ": " << label << " -> " << id;
        }
    }
    EXPECT_GT(labels, 850u);
}

TEST(ShippedKb, CoversAGeneralDermatologyReference) {
    EXPECT_GT(shipped().size(), 1000u);
    for (const char * name : {"Stevens-Johnson syndrome", "erythema nodosum", "scleroderma", "acanthosis nigricans",
                              "hidradenitis", "xanthomas", "porphyria", "neurofibromatosis", "bullous pemphigoid",
                              "pemphigus vulgaris", "Sweet syndrome", "tinea barbae", "molluscum", "lichen planopilaris",
                              "erythrasma", "head lice", "Kawasaki disease", "haemangioma", "Merkel cell carcinoma",
                              "DRESS", "SJS", "TEN", "PMLE", "Ofuji disease", "Grover's disease", "onychocryptosis"}) {
        EXPECT_NO_THROW(shipped().resolve(name)) << name;
    }
}

TEST(ShippedKb, IsOneTreeUnderSkinCondition) {
    for (const auto & id : shipped().condition_ids()) {
        const auto path = shipped().path_to_root(id);
        EXPECT_EQ(path.back(), "skin_condition") << id;
    }
}

}  // namespace
