// DDx neighbours and ResolveDDXNeighbor (paper 002, algorithm 4): each branch, on mini/kb.
#include "dermlens/kb/ddx.h"

#include "kb_fixtures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using dermlens::kb::ConditionSet;
using dermlens::kb::KnowledgeBase;
using dermlens::kb::resolve_ddx_neighbor;
using dermlens::test::mini_kb;
using testing::ElementsAre;
using testing::IsEmpty;

TEST(KbNeighbours, AreUndirectedAndSorted) {
    EXPECT_THAT(mini_kb().neighbours("melanoma"), ElementsAre("basal_cell_carcinoma", "nevus", "seborrheic_keratosis"));
    EXPECT_THAT(mini_kb().neighbours("actinic_keratosis"), ElementsAre("squamous_cell_carcinoma"));
    EXPECT_THAT(mini_kb().neighbours("nodular_melanoma"), IsEmpty());
}

TEST(ResolveDdxNeighbor, ANeighbourWithCases) {
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "melanoma", {"basal_cell_carcinoma"}), "basal_cell_carcinoma");
    // Candidates in sorted order: the first with cases wins.
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "melanoma", {"seborrheic_keratosis", "nevus"}), "nevus");
}

TEST(ResolveDdxNeighbor, WithoutNeighboursTheParentsNeighbours) {
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "nodular_melanoma", {"nevus"}), "nevus");
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "superficial_basal_cell_carcinoma", {"squamous_cell_carcinoma"}),
              "squamous_cell_carcinoma");
}

TEST(ResolveDdxNeighbor, TheParentFallbackOnlyWhenTheNodeHasNoNeighbours) {
    // nevus has neighbours (melanoma, seborrheic keratosis): its own child is no candidate.
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "nevus", {"blue_nevus"}), std::nullopt);
}

TEST(ResolveDdxNeighbor, ANeighbourWithoutCasesGivesASubclassWithCases) {
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "squamous_cell_carcinoma", {"superficial_basal_cell_carcinoma"}),
              "superficial_basal_cell_carcinoma");
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "nevus", {"nodular_melanoma", "superficial_spreading_melanoma"}),
              "nodular_melanoma");  // the first subclass in sorted order
}

TEST(ResolveDdxNeighbor, EachCandidateAndItsSubclassesBeforeTheNext) {
    // Algorithm 4 loops over the candidates and tries c's children before moving on,
    // so basal cell carcinoma's subclass comes before the later candidate nevus.
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "melanoma", {"superficial_basal_cell_carcinoma", "nevus"}),
              "superficial_basal_cell_carcinoma");
}

TEST(ResolveDdxNeighbor, NothingWithCasesGivesNone) {
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "melanoma", {}), std::nullopt);
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "melanoma", {"psoriasis", "melanoma"}), std::nullopt);
}

TEST(ResolveDdxNeighbor, NoNeighboursHereOrAtTheParentGivesNone) {
    const auto ids = mini_kb().condition_ids();
    const ConditionSet everything(ids.begin(), ids.end());
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "onychomycosis", everything), std::nullopt);
    EXPECT_EQ(resolve_ddx_neighbor(mini_kb(), "skin_condition", everything), std::nullopt);
}

TEST(ResolveDdxNeighbor, NeverPairsADiagnosisWithItself) {
    // With an edge to its own parent, basal cell carcinoma's candidates include
    // keratinocyte carcinoma, whose subclasses include the diagnosis itself.
    const auto base = KnowledgeBase::load({dermlens::test::mini_kb_dir(),
                                           dermlens::test::kb_fixtures_dir() / "ancestor-edge"});
    EXPECT_EQ(resolve_ddx_neighbor(base, "superficial_basal_cell_carcinoma",
                                   {"superficial_basal_cell_carcinoma", "melanoma"}),
              "melanoma");
}

}  // namespace
