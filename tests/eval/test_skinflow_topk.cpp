// skinflow-topk without a model. Paper 003's clinically graded correctness on the shipped
// knowledge base and the isic9class label set: exact names and synonyms, subclasses,
// acceptable and too broad parents, siblings, unrelated and unknown names, and the rank of the
// first correct diagnosis. Then the protocol's summary of recorded samples: graded Top-k and
// the top-1 grades per seed, mean ± std, the tables and the curve.
#include "metrics/graded_diagnosis.h"
#include "eval/protocol.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using dermlens::metrics::first_correct_rank;
using dermlens::metrics::Grade;
using dermlens::metrics::grade_diagnosis;
using dermlens::metrics::GradedDiagnosis;
using json = nlohmann::ordered_json;

const dermlens::kb::KnowledgeBase & shipped_kb() {
    static const auto kb = dermlens::kb::KnowledgeBase::load({dermlens::kb::KnowledgeBase::shipped_dir()});
    return kb;
}

GradedDiagnosis graded(const std::string & predicted, const std::string & truth) {
    return grade_diagnosis(shipped_kb(), predicted, truth, "isic9class");
}

void expect_grade(const std::string & predicted, const std::string & truth, Grade grade,
                  const std::string & condition) {
    const GradedDiagnosis g = graded(predicted, truth);
    EXPECT_EQ(grade_name(g.grade), grade_name(grade)) << predicted << " for " << truth;
    EXPECT_EQ(g.condition, condition) << predicted;
    EXPECT_EQ(g.name, predicted);
}

TEST(GradeDiagnosis, TheTruthByItsLabelOrCanonicalNameIsExact) {
    expect_grade("Melanoma", "melanoma", Grade::Exact, "melanoma");
    expect_grade("nevus", "nevus", Grade::Exact, "melanocytic_nevus");               // the label set's label
    expect_grade("melanocytic naevus", "nevus", Grade::Exact, "melanocytic_nevus");  // the canonical name, British
    expect_grade("seborrheic keratoses", "seborrheic_keratosis", Grade::Exact, "seborrheic_keratosis");
}

TEST(GradeDiagnosis, AnotherNameOfTheTruthIsASynonym) {
    expect_grade("malignant melanoma", "melanoma", Grade::Synonym, "melanoma");
    expect_grade("mole", "nevus", Grade::Synonym, "melanocytic_nevus");
    expect_grade("BCC", "basal_cell_carcinoma", Grade::Synonym, "basal_cell_carcinoma");
}

TEST(GradeDiagnosis, AMoreSpecificConditionIsASubclass) {
    expect_grade("superficial spreading melanoma", "melanoma", Grade::Subclass, "superficial_spreading_melanoma");
    expect_grade("melanoma in situ", "melanoma", Grade::Subclass, "melanoma_in_situ");
    expect_grade("dysplastic nevus", "nevus", Grade::Subclass, "dysplastic_nevus");
}

// The direct parent, unless it is a top-level category; never a grandparent or the root.
TEST(GradeDiagnosis, OnlyAParentCloseAndSpecificEnoughIsAcceptable) {
    expect_grade("malignant melanocytic lesion", "melanoma", Grade::AcceptableParent, "malignant_melanocytic_lesion");
    expect_grade("benign keratosis-like lesion", "seborrheic_keratosis", Grade::AcceptableParent,
                 "benign_keratosis_like_lesion");
    expect_grade("non-melanoma skin cancer", "basal_cell_carcinoma", Grade::AcceptableParent, "keratinocyte_carcinoma");
    // Two levels up, though not a top-level category.
    expect_grade("benign keratinocytic lesion", "seborrheic_keratosis", Grade::UnacceptableParent,
                 "benign_keratinocytic_lesion");
    // The direct parent, but a top-level category.
    expect_grade("dermal and soft tissue lesion", "dermatofibroma", Grade::UnacceptableParent,
                 "dermal_and_soft_tissue_lesion");
    expect_grade("melanocytic lesion", "melanoma", Grade::UnacceptableParent, "melanocytic_lesion");
    expect_grade("skin condition", "vascular_lesion", Grade::UnacceptableParent, "skin_condition");  // the root
}

TEST(GradeDiagnosis, SiblingsAndOtherConditionsAreWrong) {
    expect_grade("lentigo", "nevus", Grade::Sibling, "lentigo");
    expect_grade("squamous cell carcinoma", "basal_cell_carcinoma", Grade::Sibling, "squamous_cell_carcinoma");
    expect_grade("pigmented benign keratosis", "seborrheic_keratosis", Grade::Sibling, "pigmented_benign_keratosis");
    expect_grade("psoriasis", "melanoma", Grade::Unrelated, "psoriasis");
}

// What the knowledge base cannot resolve, a random model's garbage included, is unrelated.
TEST(GradeDiagnosis, UnknownNamesAreUnrelatedWithoutCondition) {
    for (const std::string name : {"xyzzy", "", "!!!", "qzv kwp 7", "  "}) {
        const GradedDiagnosis g = graded(name, "melanoma");
        EXPECT_EQ(g.grade, Grade::Unrelated) << "'" << name << "'";
        EXPECT_FALSE(g.condition.has_value()) << "'" << name << "'";
    }
}

TEST(GradeDiagnosis, CorrectGradesArePaper003s) {
    std::vector<std::string> correct;
    for (const Grade grade : dermlens::metrics::kGrades) {
        if (dermlens::metrics::is_correct(grade)) {
            correct.emplace_back(grade_name(grade));
        }
    }
    EXPECT_EQ(correct, (std::vector<std::string>{"exact", "synonym", "subclass", "acceptable_parent"}));
}

TEST(FirstCorrectRank, IsTheRankOfTheFirstCorrectDiagnosis) {
    const auto rank = [](const std::vector<std::string> & names) {
        std::vector<GradedDiagnosis> ranked;
        for (const std::string & name : names) {
            ranked.push_back(graded(name, "melanoma"));
        }
        return first_correct_rank(ranked);
    };
    EXPECT_EQ(rank({"melanoma", "nevus"}), 1u);
    EXPECT_EQ(rank({"nevus", "lentigo", "malignant melanocytic lesion", "melanoma"}), 3u);
    EXPECT_EQ(rank({"xyzzy", "melanocytic lesion", "", "nevus", "psoriasis", "superficial spreading melanoma"}), 6u);
    EXPECT_EQ(rank({"nevus", "melanocytic lesion"}), std::nullopt);
    EXPECT_EQ(rank({}), std::nullopt);
}

// A recorded sample: its first correct rank and its first diagnosis's grade ("" for a reply
// that listed none).
dermlens::eval::StoredSample sample(int seed, std::optional<std::size_t> rank, const std::string & top1) {
    json diagnoses = json::array();
    if (!top1.empty()) {
        diagnoses.push_back({{"name", "x"}, {"condition", nullptr}, {"grade", top1}});
    }
    const std::string image = "img" + std::to_string(seed) + (rank ? std::to_string(*rank) : "-") + top1 + ".jpg";
    return {"k=6|seed=" + std::to_string(seed) + "|image=" + image,
            0,
            {{"image", image},
             {"config", {{"k", 6}, {"seed", seed}}},
             {"truth", 0},
             {"predicted", top1 == "exact" ? json(0) : json(nullptr)},
             {"diagnoses", diagnoses},
             {"first_correct_rank", rank ? json(*rank) : json(nullptr)}},
            std::nullopt};
}

// A session over two test images of isic9class; a summary needs no model.
dermlens::eval::EvalSession session_in(const fs::path & dir) {
    std::ofstream(dir / "manifest.csv") << "image,label,split\na.jpg,melanoma,test\nb.jpg,nevus,test\n";
    dermlens::eval::EvalParams params;
    params.protocol = "skinflow-topk";
    params.manifest = dir / "manifest.csv";
    params.label_set = "isic9class";
    params.vlm.model_path = "unused.gguf";
    params.vlm.mmproj_path = "unused-mmproj.gguf";
    params.seeds = 2;
    return dermlens::eval::EvalSession(params);
}

TEST(SkinFlowTopK, SummarisesGradedTopKAndTopOneGradesPerSeed) {
    const dermlens::test::TempDir dir("skinflow_topk");
    const dermlens::eval::EvalSession session = session_in(dir.path());
    std::vector<dermlens::eval::StoredSample> samples{
        sample(0, 1, "exact"),     sample(0, 3, "sibling"), sample(0, std::nullopt, "unacceptable_parent"),
        sample(0, 6, "unrelated"), sample(1, 2, "sibling"), sample(1, std::nullopt, ""),
        sample(1, std::nullopt, "unrelated"), sample(1, 1, "synonym")};
    dermlens::eval::StoredSample failed = sample(1, 1, "exact");
    failed.key += "|failed";
    failed.error = json{{"kind", "invalid_input"}, {"message", "unreadable"}};
    samples.push_back(failed);  // not scored
    const auto report = dermlens::eval::make_protocol("skinflow-topk")->summarise(session, samples);

    ASSERT_EQ(report.groups.size(), 1u);
    const dermlens::eval::GroupSummary & group = report.groups[0];
    EXPECT_EQ(group.samples, 8u);
    EXPECT_EQ(group.failed, 1u);
    // Per seed, the first correct ranks: seed 0 1, 3, -, 6; seed 1 2, -, -, 1.
    const double spread = std::sqrt(2 * 0.125 * 0.125);  // the sample std of two values 0.25 apart
    const std::vector<std::pair<double, double>> top_k{{0.25, 0}, {0.375, spread}, {0.5, 0},
                                                       {0.5, 0},  {0.5, 0},        {0.625, spread}};
    for (std::size_t k = 1; k <= top_k.size(); ++k) {
        const auto * value = group.metric("graded_top_" + std::to_string(k) + "_accuracy");
        ASSERT_NE(value, nullptr) << k;
        EXPECT_NEAR(value->mean, top_k[k - 1].first, 1e-12) << k;
        EXPECT_NEAR(value->std, top_k[k - 1].second, 1e-12) << k;
        ASSERT_TRUE(value->interval.has_value()) << k;
        EXPECT_LE(value->interval->low, value->interval->high) << k;
    }
    const std::vector<std::pair<std::string, double>> top1{
        {"exact", 0.125},     {"synonym", 0.125},         {"subclass", 0},  {"acceptable_parent", 0},
        {"unacceptable_parent", 0.125}, {"sibling", 0.25}, {"unrelated", 0.25}, {"no_answer", 0.125}};
    for (const auto & [grade, share] : top1) {
        const auto * value = group.metric("top1_" + grade);
        ASSERT_NE(value, nullptr) << grade;
        EXPECT_NEAR(value->mean, share, 1e-12) << grade;
    }
    ASSERT_NE(group.metric("accuracy"), nullptr);
    EXPECT_NEAR(group.metric("accuracy")->mean, 0.125, 1e-12);  // strict: the top-1 names the truth's class

    ASSERT_EQ(report.tables.size(), 2u);
    EXPECT_THAT(report.tables[0].header,
                testing::ElementsAre("Dataset", "Model", "TOP1", "TOP2", "TOP3", "TOP4", "TOP5", "TOP6"));
    EXPECT_THAT(report.tables[0].rows.at(0),
                testing::ElementsAre("manifest.csv", "unused.gguf", "25.00 (± 0.00)", "37.50 (± 17.68)",
                                     "50.00 (± 0.00)", "50.00 (± 0.00)", "50.00 (± 0.00)", "62.50 (± 17.68)"));
    EXPECT_THAT(report.tables[1].header,
                testing::ElementsAre("Dataset", "exact", "synonym", "subclass", "acceptable parent",
                                     "unacceptable parent", "sibling", "unrelated", "no answer"));
    ASSERT_EQ(report.plots.size(), 1u);
    EXPECT_EQ(report.plots[0].file, "topk_curve.png");
    EXPECT_FALSE(report.plots[0].image.empty());
}

// Before any sample is stored the report has its tables, every cell empty, and no curve.
TEST(SkinFlowTopK, SummarisesNoSamples) {
    const dermlens::test::TempDir dir("skinflow_topk_empty");
    const dermlens::eval::EvalSession session = session_in(dir.path());
    const auto report = dermlens::eval::make_protocol("skinflow-topk")->summarise(session, {});
    ASSERT_EQ(report.tables.size(), 2u);
    EXPECT_EQ(report.tables[0].rows.at(0).at(2), "-");
    EXPECT_TRUE(report.plots.empty());
}

}  // namespace
