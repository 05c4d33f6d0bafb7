// Taxonomy queries and the malignancy that inherits down the tree, on mini/kb.
#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "kb_fixtures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using dermlens::kb::Malignancy;
using dermlens::test::mini_kb;
using testing::ElementsAre;
using testing::IsEmpty;

TEST(KbTaxonomy, ParentAncestorsAndPath) {
    EXPECT_EQ(mini_kb().parent("superficial_spreading_melanoma"), "melanoma");
    EXPECT_EQ(mini_kb().parent("skin_condition"), std::nullopt);
    EXPECT_THAT(mini_kb().ancestors("superficial_spreading_melanoma"),
                ElementsAre("melanoma", "melanocytic_lesion", "skin_condition"));
    EXPECT_THAT(mini_kb().path_to_root("superficial_spreading_melanoma"),
                ElementsAre("superficial_spreading_melanoma", "melanoma", "melanocytic_lesion", "skin_condition"));
    EXPECT_THAT(mini_kb().ancestors("skin_condition"), IsEmpty());
}

TEST(KbTaxonomy, DepthCountsFromTheRoot) {
    EXPECT_EQ(mini_kb().depth("skin_condition"), 0u);
    EXPECT_EQ(mini_kb().depth("melanocytic_lesion"), 1u);
    EXPECT_EQ(mini_kb().depth("melanoma"), 2u);
    EXPECT_EQ(mini_kb().depth("superficial_basal_cell_carcinoma"), 4u);
}

TEST(KbTaxonomy, ChildrenDescendantsAndSiblings) {
    EXPECT_THAT(mini_kb().children("melanoma"),
                ElementsAre("lentigo_maligna", "nodular_melanoma", "superficial_spreading_melanoma"));
    EXPECT_THAT(mini_kb().children("nodular_melanoma"), IsEmpty());
    EXPECT_THAT(mini_kb().descendants("melanocytic_lesion"),
                ElementsAre("melanoma", "nevus", "lentigo_maligna", "nodular_melanoma",
                            "superficial_spreading_melanoma", "blue_nevus"));
    EXPECT_THAT(mini_kb().siblings("nodular_melanoma"),
                ElementsAre("lentigo_maligna", "superficial_spreading_melanoma"));
    EXPECT_THAT(mini_kb().siblings("skin_condition"), IsEmpty());
}

TEST(KbTaxonomy, AncestryAndLowestCommonAncestor) {
    EXPECT_TRUE(mini_kb().is_ancestor("melanocytic_lesion", "nodular_melanoma"));
    EXPECT_FALSE(mini_kb().is_ancestor("nodular_melanoma", "melanocytic_lesion"));
    EXPECT_FALSE(mini_kb().is_ancestor("melanoma", "melanoma"));
    EXPECT_EQ(mini_kb().lowest_common_ancestor("nodular_melanoma", "blue_nevus"), "melanocytic_lesion");
    EXPECT_EQ(mini_kb().lowest_common_ancestor("nodular_melanoma", "melanoma"), "melanoma");
    EXPECT_EQ(mini_kb().lowest_common_ancestor("melanoma", "melanoma"), "melanoma");
    EXPECT_EQ(mini_kb().lowest_common_ancestor("psoriasis", "blue_nevus"), "skin_condition");
}

TEST(KbTaxonomy, Leaves) {
    const auto leaves = mini_kb().leaves();
    EXPECT_EQ(leaves.size(), 18u);
    EXPECT_TRUE(std::is_sorted(leaves.begin(), leaves.end()));
    EXPECT_THAT(leaves, testing::Contains("blue_nevus"));
    EXPECT_THAT(leaves, testing::Not(testing::Contains("melanoma")));
}

TEST(KbTaxonomy, UnknownIdsAreInvalidArguments) {
    try {
        mini_kb().ancestors("Melanoma");
        FAIL();
    } catch (const dermlens::Error & e) {
        EXPECT_EQ(e.kind(), dermlens::ErrorKind::InvalidArgument);
        EXPECT_STREQ(e.what(), "unknown condition id 'Melanoma'");
    }
}

TEST(KbMalignancy, SetOnTheNode) {
    EXPECT_EQ(mini_kb().malignancy("melanoma"), Malignancy::Malignant);
    EXPECT_EQ(mini_kb().malignancy("actinic_keratosis"), Malignancy::Precancerous);
    EXPECT_EQ(mini_kb().malignancy("nevus"), Malignancy::Benign);
}

TEST(KbMalignancy, InheritedFromTheNearestAncestorThatSetsIt) {
    EXPECT_EQ(mini_kb().malignancy("superficial_spreading_melanoma"), Malignancy::Malignant);
    EXPECT_EQ(mini_kb().malignancy("blue_nevus"), Malignancy::Benign);
    EXPECT_EQ(mini_kb().malignancy("superficial_basal_cell_carcinoma"), Malignancy::Malignant);  // two levels up
    EXPECT_EQ(mini_kb().malignancy("psoriasis"), Malignancy::Benign);
}

TEST(KbMalignancy, ANodeOverridesItsAncestors) {
    EXPECT_EQ(mini_kb().malignancy("lentigo_maligna"), Malignancy::Precancerous);  // under malignant melanoma
}

TEST(KbMalignancy, UnsetWhenNoAncestorSetsIt) {
    EXPECT_EQ(mini_kb().malignancy("melanocytic_lesion"), std::nullopt);
    EXPECT_EQ(mini_kb().malignancy("onychomycosis"), std::nullopt);
    EXPECT_EQ(mini_kb().malignancy("skin_condition"), std::nullopt);
}

TEST(KbMalignancy, Names) {
    EXPECT_EQ(dermlens::kb::malignancy_name(Malignancy::Precancerous), "precancerous");
    EXPECT_EQ(dermlens::kb::parse_malignancy("malignant"), Malignancy::Malignant);
    EXPECT_EQ(dermlens::kb::parse_malignancy("Malignant"), std::nullopt);
}

}  // namespace
