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
        {"derm7pt-14", 14}, {"eskinhealth-24", 24}, {"fitzpatrick17k-20", 20}, {"sd260", 260},
        {"pad-ufes-20", 6}, {"ham10000", 7},        {"isic9class", 9},
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

TEST(ShippedKb, IsOneTreeUnderSkinCondition) {
    for (const auto & id : shipped().condition_ids()) {
        const auto path = shipped().path_to_root(id);
        EXPECT_EQ(path.back(), "skin_condition") << id;
    }
}

}  // namespace
