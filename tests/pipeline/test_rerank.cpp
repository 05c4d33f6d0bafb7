// The re-ranking pipeline end to end on generated tiny models of all three
// architectures: every strategy runs from one encoding (the encoder runs once per image),
// candidate probabilities are distributions, the grammar-constrained description always
// parses, abstention triggers where it must, fused probabilities follow the probe's stored
// weight, and the same inputs give the same report.
#include "dermlens/error.h"
#include "image/image.h"
#include "dermlens/kb/knowledge_base.h"
#include "model/lesion_png.h"
#include "model/testmodel.h"
#include "model/vlm.h"
#include "pipeline/rerank.h"
#include "pipeline/rerank_report.h"
#include "probe/fusion.h"
#include "support/temp_dir.h"
#include "vision/encoder_identity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using dermlens::model::ImageEncoding;
using dermlens::model::Vlm;
using dermlens::pipeline::ClinicalContext;
using dermlens::pipeline::DecideMode;
using dermlens::pipeline::RerankParams;
using dermlens::pipeline::RerankResult;
using dermlens::pipeline::Reranker;
using dermlens::pipeline::Strategy;
using dermlens::testmodel::Arch;

const std::vector<std::string> kIsicLabels{"actinic_keratosis", "basal_cell_carcinoma", "dermatofibroma",
                                           "melanoma",          "nevus",                "pigmented_benign_keratosis",
                                           "seborrheic_keratosis", "squamous_cell_carcinoma", "vascular_lesion"};

const dermlens::kb::KnowledgeBase & knowledge_base() {
    static const auto kb = dermlens::kb::KnowledgeBase::load({dermlens::kb::KnowledgeBase::shipped_dir()});
    return kb;
}

// A probe of the isic9class labels on the tiny model's encoder: random weights, calibrated
// on random scores (what matters here is the flow, not its accuracy).
dermlens::probe::Probe random_probe(const fs::path & mmproj, std::size_t dimension) {
    dermlens::probe::Probe probe;
    probe.classes = kIsicLabels;
    probe.label_set = "isic9class";
    probe.encoder = dermlens::vision::encoder_identity(mmproj, dermlens::vision::FeatureKind::EncoderMean);
    probe.dimension = dimension;
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal(0.0, 3.0);
    probe.weights = Eigen::MatrixXd::NullaryExpr(static_cast<Eigen::Index>(kIsicLabels.size()),
                                                 static_cast<Eigen::Index>(dimension), [&] { return normal(rng); });
    probe.bias = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(kIsicLabels.size()));
    dermlens::probe::Calibration calibration;
    for (int i = 0; i < 50; ++i) {
        calibration.scores.push_back(0.3 + 0.012 * i);
    }
    probe.calibration = calibration;
    probe.validate();
    return probe;
}

double sum(const RerankResult & result, double dermlens::pipeline::CandidateScore::*field) {
    double total = 0;
    for (const auto & c : result.candidates) {
        total += c.*field;
    }
    return total;
}

class Rerank : public testing::TestWithParam<Arch> {
protected:
    static void SetUpTestSuite() { dir_ = new dermlens::test::TempDir("rerank"); }
    static void TearDownTestSuite() { delete dir_; }

    void SetUp() override {
        dermlens::testmodel::Options options;
        options.arch = GetParam();
        options.seed = 11;
        options.out_dir = *dir_ / std::string(dermlens::testmodel::arch_name(GetParam()));
        files_ = fs::exists(options.out_dir / "mmproj.gguf")
                     ? dermlens::testmodel::Files{options.out_dir / "model.gguf", options.out_dir / "mmproj.gguf"}
                     : dermlens::testmodel::make_test_model(options);
        dermlens::model::VlmParams params;
        params.model_path = files_.model;
        params.mmproj_path = files_.mmproj;
        params.threads = 1;
        params.context_size = 4096;
        vlm_ = std::make_unique<Vlm>(params);
        const auto image = dermlens::image::load_image(dermlens::test::lesion_png(dir_->path()));
        encoding_ = vlm_->encode({image.width, image.height, image.rgb.data()});
        probe_ = random_probe(files_.mmproj, encoding_.encoder_mean.size());
    }

    RerankResult run(RerankParams params, const dermlens::probe::Probe * probe, ClinicalContext context = {}) {
        Reranker reranker(*vlm_, knowledge_base(), params, {"melanoma", "nevus", "seborrheic_keratosis"}, "isic9class",
                          probe);
        return reranker.diagnose(encoding_, context, 1);
    }

    static inline dermlens::test::TempDir * dir_ = nullptr;
    dermlens::testmodel::Files files_;
    std::unique_ptr<Vlm> vlm_;
    ImageEncoding encoding_;
    dermlens::probe::Probe probe_;
};

TEST_P(Rerank, EveryStrategyRunsFromOneEncoding) {
    for (const Strategy strategy : {Strategy::Direct, Strategy::InContext, Strategy::DescribeThenDecide,
                                    Strategy::TopK, Strategy::Combined}) {
        for (const DecideMode decide : {DecideMode::Score, DecideMode::Generate}) {
            RerankParams params;
            params.strategy = strategy;
            params.decide = decide;
            params.candidates.top_k = 4;
            const RerankResult result = run(params, &probe_);
            const std::string what = std::string(dermlens::pipeline::strategy_name(strategy)) + " " +
                                     dermlens::pipeline::decide_mode_name(decide);
            const bool from_probe = strategy == Strategy::TopK || strategy == Strategy::Combined;
            EXPECT_EQ(result.candidates.size(), from_probe ? 4u : 9u) << what;
            for (const auto & c : result.candidates) {
                EXPECT_GE(c.vlm, 0.0) << what;
                EXPECT_GE(c.fused, 0.0) << what;
                ASSERT_TRUE(c.probe) << what;
                EXPECT_GE(*c.probe, 0.0) << what;
            }
            EXPECT_NEAR(sum(result, &dermlens::pipeline::CandidateScore::vlm), 1.0, 1e-9) << what;
            EXPECT_NEAR(sum(result, &dermlens::pipeline::CandidateScore::fused), 1.0, 1e-9) << what;
            EXPECT_EQ(result.description.has_value(),
                      strategy == Strategy::DescribeThenDecide || strategy == Strategy::Combined)
                << what;
            if (decide == DecideMode::Score) {
                ASSERT_TRUE(result.final) << what;
                EXPECT_EQ(result.final->label, result.candidates[result.differential.front()].label) << what;
                EXPECT_FALSE(result.final->taxonomy_path.empty()) << what;
                EXPECT_EQ(result.final->taxonomy_path.back(), result.final->condition) << what;
            } else {
                ASSERT_TRUE(result.parsed) << what;  // a free answer from an untrained model: parsed or not, reported
                EXPECT_EQ(result.final.has_value(), result.parsed->index.has_value()) << what;
            }
        }
    }
    EXPECT_EQ(vlm_->encoder_runs(), 1u);  // the one encode of SetUp serves all ten runs
}

TEST_P(Rerank, TopKOffersTheProbesMostLikelyClassesInOrder) {
    RerankParams params;
    params.strategy = Strategy::TopK;
    params.candidates.top_k = 3;
    const RerankResult result = run(params, &probe_);
    const Eigen::MatrixXf row = Eigen::Map<const Eigen::RowVectorXf>(
        encoding_.encoder_mean.data(), static_cast<Eigen::Index>(encoding_.encoder_mean.size()));
    const Eigen::RowVectorXd p = probe_.probabilities(row).row(0);
    std::vector<std::size_t> order(p.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return p(static_cast<Eigen::Index>(a)) > p(static_cast<Eigen::Index>(b)); });
    ASSERT_EQ(result.candidates.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(result.candidates[i].label, kIsicLabels[order[i]]);
    }
    EXPECT_FALSE(result.conformal.has_value());
    EXPECT_TRUE(dermlens::pipeline::to_json(result)["conformal_set"].is_null());
    params.candidates.mode = dermlens::probe::CandidateMode::Conformal;
    const RerankResult conformal = run(params, &probe_);
    EXPECT_GE(conformal.candidates.size(), 2u);
    // The report states what the set promises: the probe's score, alpha, marginal calibration.
    ASSERT_TRUE(conformal.conformal.has_value());
    const auto reported = dermlens::pipeline::to_json(conformal)["conformal_set"];
    EXPECT_EQ(reported["score"], "lac");
    EXPECT_EQ(reported["alpha"], 0.1);
    EXPECT_EQ(reported["calibration"], "marginal");
    EXPECT_EQ(reported["calibration_rows"], 50);
    EXPECT_EQ(reported["coverage"], 1.0 - 0.1);
    EXPECT_LE(reported["set_size"].get<std::size_t>(), conformal.candidates.size());
    EXPECT_NE(dermlens::pipeline::to_text(conformal).find("P(true class in set) >= 0.9, marginal over images"),
              std::string::npos);
}

TEST_P(Rerank, FusedProbabilitiesFollowTheStoredWeight) {
    RerankParams params;
    params.strategy = Strategy::Combined;
    const RerankResult unfused = run(params, &probe_);
    EXPECT_FALSE(unfused.fusion_weight);
    for (const auto & c : unfused.candidates) {
        EXPECT_DOUBLE_EQ(c.fused, c.vlm);  // no weight stored: the VLM decides
    }
    for (const double weight : {0.0, 0.3, 1.0}) {
        auto probe = probe_;
        probe.fusion = dermlens::probe::Fusion{weight, "combined", "00", 10, {0.0, 0.3, 1.0}, {0.5, 0.6, 0.4}};
        const RerankResult fused = run(params, &probe);
        ASSERT_TRUE(fused.fusion_weight);
        EXPECT_EQ(*fused.fusion_weight, weight);
        std::vector<double> probe_side, vlm_side;
        for (const auto & c : fused.candidates) {
            probe_side.push_back(*c.probe);
            vlm_side.push_back(c.vlm);
        }
        const auto expected = dermlens::probe::fuse(probe_side, vlm_side, weight);
        for (std::size_t i = 0; i < expected.size(); ++i) {
            EXPECT_NEAR(fused.candidates[i].fused, expected[i], 1e-12) << "weight " << weight;
        }
        if (weight == 1.0) {
            EXPECT_EQ(fused.final->label, fused.candidates.front().label);  // the probe's top class
        }
    }
}

TEST_P(Rerank, AbstainsBelowTheThresholdAndOnNotSure) {
    RerankParams params;
    params.strategy = Strategy::InContext;
    params.abstention.threshold = 0.999;  // an untrained model over three options: never this sure
    const RerankResult unsure = run(params, nullptr);
    EXPECT_TRUE(unsure.abstained);
    EXPECT_FALSE(unsure.final);
    EXPECT_NE(unsure.abstain_reason.find("below the threshold"), std::string::npos) << unsure.abstain_reason;

    params.abstention = {true, 0.0};
    const RerankResult offered = run(params, nullptr);
    ASSERT_TRUE(offered.not_sure_probability);
    EXPECT_EQ(offered.markers.size(), 4u);  // three labels and "not sure"
    // Whether "not sure" wins depends on the model; the decision must follow it either way.
    const double best_real = offered.candidates[offered.differential.front()].fused * (1 - *offered.not_sure_probability);
    EXPECT_EQ(offered.abstained, *offered.not_sure_probability > best_real);
}

TEST_P(Rerank, SameInputsSameReport) {
    RerankParams params;
    params.strategy = Strategy::Combined;
    params.shuffle_options = true;
    params.seed = 3;
    const RerankResult a = run(params, &probe_);
    const RerankResult b = run(params, &probe_);
    ASSERT_EQ(a.candidates.size(), b.candidates.size());
    for (std::size_t i = 0; i < a.candidates.size(); ++i) {
        EXPECT_EQ(a.candidates[i].label, b.candidates[i].label);
        EXPECT_EQ(a.candidates[i].fused, b.candidates[i].fused);
    }
    EXPECT_EQ(a.description_text, b.description_text);
}

TEST_P(Rerank, RefusesWhatDoesNotFit) {
    RerankParams params;
    params.strategy = Strategy::TopK;
    EXPECT_THROW(run(params, nullptr), dermlens::Error);  // candidates from a probe, without one
    params.strategy = Strategy::Direct;
    params.style = dermlens::pipeline::PromptStyle::SkinR1;
    EXPECT_THROW(run(params, nullptr), dermlens::Error);  // a free-answer style with option scoring
    params.style = dermlens::pipeline::PromptStyle::Dermlens;
    params.candidates.mode = dermlens::probe::CandidateMode::Conformal;
    try {  // a conformal set where every label is offered would be ignored: refused instead
        run(params, &probe_);
        ADD_FAILURE() << "conformal candidates with the direct strategy were accepted";
    } catch (const dermlens::Error & e) {
        EXPECT_EQ(e.field(), "candidates");
        EXPECT_NE(std::string(e.what()).find("'direct' offers every label"), std::string::npos) << e.what();
    }
    auto foreign = probe_;
    foreign.encoder.mmproj_sha256 = std::string(64, '0');
    EXPECT_THROW(run(RerankParams{}, &foreign), dermlens::Error);
}

INSTANTIATE_TEST_SUITE_P(AllArchitectures, Rerank, testing::Values(Arch::Gemma3, Arch::Qwen2VL, Arch::Llava),
                         [](const auto & test) { return std::string(dermlens::testmodel::arch_name(test.param)); });

// The description grammar holds under sampling: every seed gives a description that parses.
// Each sampled step costs a softmax over the whole vocabulary, so the 100 seeds run on LLaVA's
// 32k tokens, and a few on Gemma's 262k (the vocabulary with the most kinds of tokens).
void expect_sampled_descriptions_parse(Arch arch, int five_criteria_seeds, int skinflow_seeds) {
    dermlens::test::TempDir dir("rerank_description");
    dermlens::testmodel::Options options;
    options.arch = arch;
    options.out_dir = dir / std::string(dermlens::testmodel::arch_name(arch));
    const auto files = dermlens::testmodel::make_test_model(options);
    dermlens::model::VlmParams params;
    params.model_path = files.model;
    params.mmproj_path = files.mmproj;
    params.threads = 1;
    Vlm vlm(params);
    const auto image = dermlens::image::load_image(dermlens::test::lesion_png(dir.path()));
    const ImageEncoding encoding = vlm.encode({image.width, image.height, image.rgb.data()});
    for (const auto schema : {dermlens::pipeline::DescriptionSchema::FiveCriteria, dermlens::pipeline::DescriptionSchema::SkinFlow}) {
        const int seeds = schema == dermlens::pipeline::DescriptionSchema::FiveCriteria ? five_criteria_seeds : skinflow_seeds;
        for (int seed = 0; seed < seeds; ++seed) {
            RerankParams rerank;
            rerank.strategy = Strategy::DescribeThenDecide;
            rerank.schema = schema;
            rerank.temperature = 1.0f;
            rerank.seed = static_cast<std::uint32_t>(seed);
            Reranker reranker(vlm, knowledge_base(), rerank, {"melanoma", "nevus"}, "isic9class", nullptr);
            RerankResult result;
            ASSERT_NO_THROW(result = reranker.diagnose(encoding, {}, 0)) << "seed " << seed;
            ASSERT_TRUE(result.description) << "seed " << seed;
            EXPECT_EQ(result.description->fields.size(), dermlens::pipeline::description_fields(schema).size());
        }
    }
}

TEST(RerankDescription, SampledDescriptionsAlwaysParseOverAHundredSeeds) {
    expect_sampled_descriptions_parse(Arch::Llava, 100, 10);
}

TEST(RerankDescription, SampledDescriptionsParseWithGemmasVocabulary) {
    expect_sampled_descriptions_parse(Arch::Gemma3, 10, 3);
}

}  // namespace
