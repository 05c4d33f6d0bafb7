// relation(predicted, truth): each outcome of SkinFlow's graded evaluation (paper 003, 4.1.4).
#include "dermlens/kb/relation.h"

#include "dermlens/error.h"
#include "kb_fixtures.h"

#include <gtest/gtest.h>

namespace {

using dermlens::kb::relation;
using dermlens::kb::RelationKind;
using dermlens::test::mini_kb;

TEST(KbRelation, ExactWhenNamedAsTheTruthOrCanonically) {
    const auto same = relation(mini_kb(), "Herpes Zoster", "herpes zoster");
    EXPECT_EQ(same.kind, RelationKind::Exact);
    EXPECT_EQ(same.predicted, "herpes_zoster");
    EXPECT_EQ(same.truth, "herpes_zoster");
    EXPECT_EQ(same.levels, 0u);
    EXPECT_EQ(relation(mini_kb(), "shingles", "Shingles.").kind, RelationKind::Exact);
    EXPECT_EQ(relation(mini_kb(), "herpes zoster", "shingles").kind, RelationKind::Exact);  // the canonical name
    EXPECT_EQ(relation(mini_kb(), "melanomas", "melanoma").kind, RelationKind::Exact);
    EXPECT_EQ(relation(mini_kb(), "melanoma", "mel", "mini-dermoscopy").kind, RelationKind::Exact);
}

TEST(KbRelation, SynonymWhenTheSameConditionHasAnotherName) {
    const auto synonym = relation(mini_kb(), "shingles", "herpes zoster");
    EXPECT_EQ(synonym.kind, RelationKind::Synonym);
    EXPECT_EQ(synonym.predicted, "herpes_zoster");
    EXPECT_EQ(relation(mini_kb(), "BCC", "basal cell carcinoma").kind, RelationKind::Synonym);
    EXPECT_EQ(relation(mini_kb(), "naevus", "melanocytic nevus").kind, RelationKind::Synonym);
}

TEST(KbRelation, SubclassWhenThePredictionIsMoreSpecific) {
    const auto deeper = relation(mini_kb(), "superficial spreading melanoma", "melanoma");
    EXPECT_EQ(deeper.kind, RelationKind::Subclass);
    EXPECT_EQ(deeper.levels, 1u);
    EXPECT_EQ(relation(mini_kb(), "atopic dermatitis", "inflammatory dermatosis").levels, 2u);
}

TEST(KbRelation, ParentWithTheLevelsUp) {
    const auto coarser = relation(mini_kb(), "melanoma", "SSM");
    EXPECT_EQ(coarser.kind, RelationKind::Parent);
    EXPECT_EQ(coarser.levels, 1u);
    const auto broad = relation(mini_kb(), "skin condition", "superficial basal cell carcinoma");
    EXPECT_EQ(broad.kind, RelationKind::Parent);
    EXPECT_EQ(broad.levels, 4u);
}

TEST(KbRelation, SiblingWhenTheParentIsShared) {
    const auto sibling = relation(mini_kb(), "nodular melanoma", "superficial spreading melanoma");
    EXPECT_EQ(sibling.kind, RelationKind::Sibling);
    EXPECT_EQ(sibling.levels, 0u);
    EXPECT_EQ(relation(mini_kb(), "SCC", "BCC").kind, RelationKind::Sibling);
}

TEST(KbRelation, UnrelatedOtherwise) {
    EXPECT_EQ(relation(mini_kb(), "psoriasis", "melanoma").kind, RelationKind::Unrelated);
    EXPECT_EQ(relation(mini_kb(), "nodular melanoma", "blue nevus").kind, RelationKind::Unrelated);  // cousins
}

TEST(KbRelation, ResolvesLabelsThroughTheLabelSet) {
    const auto through_set = relation(mini_kb(), "other", "mel", "mini-dermoscopy");
    EXPECT_EQ(through_set.predicted, "seborrheic_keratosis");
    EXPECT_EQ(through_set.kind, RelationKind::Unrelated);
    EXPECT_THROW(relation(mini_kb(), "other", "melanoma"), dermlens::Error);  // ambiguous without the set
}

TEST(KbRelation, Names) {
    EXPECT_EQ(dermlens::kb::relation_name(RelationKind::Subclass), "subclass");
    EXPECT_EQ(dermlens::kb::relation_name(RelationKind::Unrelated), "unrelated");
}

}  // namespace
