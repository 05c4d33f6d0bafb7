// Multiple-choice options (paper 002): seeded distractor sampling per strategy and
// the "most fine-grained option on the correct path" rule.
#include "kb/multiple_choice.h"

#include "dermlens/error.h"
#include "kb_fixtures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace {

using dermlens::kb::correct_option;
using dermlens::kb::DistractorStrategy;
using dermlens::kb::sample_options;
using dermlens::test::mini_kb;
using testing::ElementsAre;

constexpr DistractorStrategy kStrategies[] = {DistractorStrategy::Random, DistractorStrategy::Hierarchical,
                                              DistractorStrategy::Ddx};

std::vector<std::string> distractors(std::vector<std::string> options, const std::string & truth) {
    std::erase(options, truth);
    return options;
}

TEST(SampleOptions, TheSameSeedGivesTheSameOptions) {
    for (const auto strategy : kStrategies) {
        for (std::uint64_t seed = 0; seed < 20; ++seed) {
            EXPECT_EQ(sample_options(mini_kb(), "melanoma", strategy, 4, seed),
                      sample_options(mini_kb(), "melanoma", strategy, 4, seed));
        }
    }
}

TEST(SampleOptions, DifferentSeedsGiveDifferentOptions) {
    std::set<std::vector<std::string>> seen;
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        seen.insert(sample_options(mini_kb(), "melanoma", DistractorStrategy::Random, 4, seed));
    }
    EXPECT_GT(seen.size(), 10u);
    // Even with a fixed set of distractors, the seed moves the answer around.
    std::set<std::size_t> answer_places;
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        const auto options = sample_options(mini_kb(), "melanoma", DistractorStrategy::Ddx, 4, seed);
        answer_places.insert(static_cast<std::size_t>(std::find(options.begin(), options.end(), "melanoma") -
                                                      options.begin()));
    }
    EXPECT_EQ(answer_places.size(), 4u);
}

// std::mt19937_64's output is fixed by the standard and the draws are our own, so
// these are the options on every platform and compiler. The expected values were
// cross-checked with an independent Python implementation of mt19937_64 (checked
// against the standard's 10000th output, 9981545732273789042) and the same draws.
TEST(SampleOptions, AreTheSameOnEveryPlatform) {
    EXPECT_THAT(sample_options(mini_kb(), "melanoma", DistractorStrategy::Random, 4, 42),
                ElementsAre("tinea_pedis", "melanoma", "mycosis_fungoides", "seborrheic_keratosis"));
    EXPECT_THAT(sample_options(mini_kb(), "superficial_basal_cell_carcinoma", DistractorStrategy::Hierarchical, 3, 7),
                ElementsAre("basal_cell_carcinoma", "keratinocyte_carcinoma", "superficial_basal_cell_carcinoma"));
    EXPECT_THAT(sample_options(mini_kb(), "basal_cell_carcinoma", DistractorStrategy::Ddx, 3, 2024),
                ElementsAre("basal_cell_carcinoma", "squamous_cell_carcinoma", "seborrheic_keratosis"));
}

TEST(SampleOptions, TheAnswerExactlyOnceAndNoDuplicates) {
    for (const auto strategy : kStrategies) {
        for (const std::string truth : {"melanoma", "basal_cell_carcinoma", "superficial_spreading_melanoma",
                                        "psoriasis", "nummular_eczema"}) {
            for (std::uint64_t seed = 0; seed < 30; ++seed) {
                const auto options = sample_options(mini_kb(), truth, strategy, 4, seed);
                EXPECT_EQ(std::count(options.begin(), options.end(), truth), 1);
                EXPECT_EQ(std::set<std::string>(options.begin(), options.end()).size(), options.size());
                EXPECT_LE(options.size(), 4u);
                EXPECT_EQ(correct_option(mini_kb(), options, truth),
                          static_cast<std::size_t>(std::find(options.begin(), options.end(), truth) - options.begin()));
            }
        }
    }
}

TEST(SampleOptions, RandomDistractorsAreLeavesOffTheTruthsLineage) {
    for (std::uint64_t seed = 0; seed < 30; ++seed) {
        const auto options = sample_options(mini_kb(), "melanoma", DistractorStrategy::Random, 5, seed);
        ASSERT_EQ(options.size(), 5u);
        const auto leaves = mini_kb().leaves();
        for (const auto & distractor : distractors(options, "melanoma")) {
            EXPECT_TRUE(std::binary_search(leaves.begin(), leaves.end(), distractor)) << distractor;
            EXPECT_FALSE(mini_kb().is_ancestor("melanoma", distractor)) << distractor;
        }
    }
}

TEST(SampleOptions, RandomDistractorsComeFromTheLabelSet) {
    for (std::uint64_t seed = 0; seed < 30; ++seed) {
        const auto options = sample_options(mini_kb(), "melanoma", DistractorStrategy::Random, 9, seed,
                                            "mini-dermoscopy");
        // nevus, basal and squamous cell carcinoma, seborrheic keratosis: every other condition of the set.
        EXPECT_THAT(distractors(options, "melanoma"),
                    testing::UnorderedElementsAre("nevus", "basal_cell_carcinoma", "squamous_cell_carcinoma",
                                                  "seborrheic_keratosis"));
    }
}

TEST(SampleOptions, HierarchicalDistractorsAreAncestorsButNotTheRoot) {
    for (std::uint64_t seed = 0; seed < 30; ++seed) {
        const auto options =
            sample_options(mini_kb(), "superficial_basal_cell_carcinoma", DistractorStrategy::Hierarchical, 3, seed);
        ASSERT_EQ(options.size(), 3u);
        for (const auto & distractor : distractors(options, "superficial_basal_cell_carcinoma")) {
            EXPECT_TRUE(mini_kb().is_ancestor(distractor, "superficial_basal_cell_carcinoma")) << distractor;
            EXPECT_NE(distractor, "skin_condition");
        }
    }
    // Fewer ancestors than asked for: all of them.
    EXPECT_THAT(sample_options(mini_kb(), "superficial_spreading_melanoma", DistractorStrategy::Hierarchical, 6, 1),
                testing::UnorderedElementsAre("superficial_spreading_melanoma", "melanoma", "melanocytic_lesion"));
}

TEST(SampleOptions, DdxDistractorsAreNeighbours) {
    for (std::uint64_t seed = 0; seed < 30; ++seed) {
        const auto options = sample_options(mini_kb(), "basal_cell_carcinoma", DistractorStrategy::Ddx, 3, seed);
        ASSERT_EQ(options.size(), 3u);
        const auto & neighbours = mini_kb().neighbours("basal_cell_carcinoma");
        for (const auto & distractor : distractors(options, "basal_cell_carcinoma")) {
            EXPECT_THAT(neighbours, testing::Contains(distractor));
        }
    }
}

TEST(SampleOptions, RefusesTooFewOptionsAndUnknownIds) {
    EXPECT_THROW(sample_options(mini_kb(), "melanoma", DistractorStrategy::Random, 1, 0), dermlens::Error);
    EXPECT_THROW(sample_options(mini_kb(), "no_such_id", DistractorStrategy::Random, 4, 0), dermlens::Error);
    EXPECT_THROW(sample_options(mini_kb(), "melanoma", DistractorStrategy::Random, 4, 0, "ham10000"), dermlens::Error);
}

TEST(CorrectOption, IsTheFinestOptionOnTheTruthsPath) {
    const std::vector<std::string> options{"melanocytic_lesion", "superficial_spreading_melanoma", "melanoma", "nevus"};
    EXPECT_EQ(correct_option(mini_kb(), options, "superficial_spreading_melanoma"), 1u);
    EXPECT_EQ(correct_option(mini_kb(), options, "nodular_melanoma"), 2u);  // its parent melanoma
    EXPECT_EQ(correct_option(mini_kb(), options, "melanoma"), 2u);  // the subtype below it is wrong
    EXPECT_EQ(correct_option(mini_kb(), options, "blue_nevus"), 3u);
    EXPECT_EQ(correct_option(mini_kb(), options, "psoriasis"), std::nullopt);
}

// Paper 002's RL sampler on the shipped knowledge base and the ISIC 9-class label set.
TEST(SamplePathOptions, OneToThreePathNodesAndLabelSetDistractorsOffTheLineage) {
    using dermlens::kb::KnowledgeBase;
    static const KnowledgeBase kb = KnowledgeBase::load({KnowledgeBase::shipped_dir()});
    const std::string truth = "superficial_spreading_melanoma";
    std::set<std::string> label_set_conditions;
    for (const auto & label : kb.label_set("isic9class").labels) {
        label_set_conditions.insert(label.condition);
    }
    std::set<std::size_t> path_counts;
    bool leaf_absent = false;
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        const auto options = dermlens::kb::sample_path_options(kb, truth, 4, 3, seed, "isic9class");
        ASSERT_EQ(options.size(), 4u);
        EXPECT_EQ(std::set<std::string>(options.begin(), options.end()).size(), 4u);
        std::size_t on_path = 0;
        for (const auto & option : options) {
            if (option == truth || kb.is_ancestor(option, truth)) {
                ++on_path;
                EXPECT_NE(option, "skin_condition");
            } else {
                EXPECT_TRUE(label_set_conditions.contains(option)) << option;
                EXPECT_FALSE(kb.is_ancestor(truth, option)) << option;
            }
        }
        path_counts.insert(on_path);
        leaf_absent = leaf_absent || std::find(options.begin(), options.end(), truth) == options.end();
        EXPECT_TRUE(correct_option(kb, options, truth).has_value());
        EXPECT_EQ(options, dermlens::kb::sample_path_options(kb, truth, 4, 3, seed, "isic9class"));
    }
    EXPECT_EQ(path_counts, (std::set<std::size_t>{1, 2, 3}));
    EXPECT_TRUE(leaf_absent);  // as in the authors' sampler, the truth itself is not always offered
    EXPECT_THROW(dermlens::kb::sample_path_options(kb, "skin_condition", 4, 3, 0), dermlens::Error);
}

}  // namespace
