// The probe file: round trip (with and without a fusion weight), refused features of
// another encoder / dimension / label set, and malformed files.
#include "dermlens/error.h"
#include "metrics/metrics.h"
#include "probe/candidates.h"
#include "probe/evaluate.h"
#include "probe/probe.h"
#include "probe/train.h"
#include "synthetic.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using namespace dermlens::probe;
using dermlens::test::as_table;
using dermlens::test::gaussian_classes;
using dermlens::vision::FeatureKind;
using dermlens::vision::FeatureTable;
using nlohmann::json;
using testing::HasSubstr;

class ProbeFile : public testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / fmt::format("dermlens_probe_file_{}", ::getpid());
        fs::create_directories(dir_);
        table_ = as_table(gaussian_classes(300, 8, 3, 0.7, 4));
        table_.encoder = {"ab12", FeatureKind::ProjectedMean, "clip-336"};
    }
    void TearDown() override { fs::remove_all(dir_); }

    Probe trained(ProbeMethod method, bool standardise) const {
        TrainParams params;
        params.method = method;
        params.seeds = 1;
        params.standardise = standardise;
        params.conformal.params = parse_conformal_score("raps");
        params.conformal.lambda = 0.01;
        params.conformal.k_reg = 2;
        params.label_set = "mini";
        return train_probes(table_, params, "t").runs[0].probe;
    }

    std::string error_of(const std::function<void()> & action) const {
        try {
            action();
        } catch (const dermlens::Error & e) {
            return e.what();
        }
        return "(no error)";
    }

    fs::path write_json(const json & value) const {
        const fs::path path = dir_ / "edited.probe";
        std::ofstream(path) << value.dump();
        return path;
    }

    fs::path dir_;
    FeatureTable table_;
};

TEST_F(ProbeFile, RoundTripsEveryField) {
    for (const auto method : {ProbeMethod::LogReg, ProbeMethod::Linear}) {
        const Probe probe = trained(method, method == ProbeMethod::LogReg);
        const fs::path path = dir_ / "p.probe";
        save_probe(probe, path);
        const Probe loaded = load_probe(path);
        EXPECT_EQ(loaded.classes, probe.classes);
        EXPECT_EQ(loaded.label_set, "mini");
        EXPECT_EQ(loaded.encoder, probe.encoder);
        EXPECT_EQ(loaded.dimension, 8u);
        EXPECT_EQ(loaded.method, method);
        EXPECT_EQ(loaded.weights, probe.weights);  // doubles are written with round-trip precision
        EXPECT_EQ(loaded.bias, probe.bias);
        EXPECT_EQ(loaded.normalisation.standardise, probe.normalisation.standardise);
        EXPECT_EQ(loaded.normalisation.mean, probe.normalisation.mean);
        EXPECT_EQ(loaded.normalisation.scale, probe.normalisation.scale);
        EXPECT_EQ(loaded.hyperparameters.selection, probe.hyperparameters.selection);
        EXPECT_EQ(loaded.hyperparameters.c, probe.hyperparameters.c);
        EXPECT_EQ(loaded.hyperparameters.c_scores, probe.hyperparameters.c_scores);
        EXPECT_EQ(loaded.hyperparameters.learning_rate, probe.hyperparameters.learning_rate);
        EXPECT_EQ(loaded.hyperparameters.val_accuracy, probe.hyperparameters.val_accuracy);
        EXPECT_EQ(loaded.training.seed, probe.training.seed);
        EXPECT_EQ(loaded.training.rows_per_class, probe.training.rows_per_class);
        EXPECT_EQ(loaded.training.split_generated, true);
        EXPECT_EQ(loaded.training.proportions, probe.training.proportions);
        ASSERT_TRUE(loaded.calibration.has_value());
        EXPECT_EQ(loaded.calibration->params, probe.calibration->params);
        EXPECT_EQ(loaded.calibration->scores, probe.calibration->scores);
        EXPECT_EQ(loaded.probabilities(table_.features), probe.probabilities(table_.features));
        EXPECT_FALSE(loaded.fusion.has_value());
        const json file = json::parse(std::ifstream(path));
        EXPECT_EQ(file["format"], "dermlens.probe/1");  // no fusion weight: readable by readers of /1
        EXPECT_FALSE(file.contains("fusion"));
        EXPECT_EQ(file["calibration"]["q_hat"].get<double>(), probe.calibration->q_hat(0.1));
    }
}

TEST_F(ProbeFile, RoundTripsTheFusionWeightAsFormat2) {
    Probe probe = trained(ProbeMethod::LogReg, false);
    probe.fusion = Fusion{0.35, "combined", "9f86d081", 120, {0.0, 0.35, 0.7, 1.0}, {0.5, 0.625, 0.6, 0.55}};
    const fs::path path = dir_ / "fused.probe";
    save_probe(probe, path);
    const json file = json::parse(std::ifstream(path));
    EXPECT_EQ(file["format"], "dermlens.probe/2");
    EXPECT_EQ(file["fusion"]["weight"], 0.35);
    EXPECT_EQ(file["fusion"]["strategy"], "combined");
    const Probe loaded = load_probe(path);
    ASSERT_TRUE(loaded.fusion.has_value());
    EXPECT_EQ(loaded.fusion->weight, 0.35);
    EXPECT_EQ(loaded.fusion->strategy, "combined");
    EXPECT_EQ(loaded.fusion->model_sha256, "9f86d081");
    EXPECT_EQ(loaded.fusion->rows, 120u);
    EXPECT_EQ(loaded.fusion->grid, probe.fusion->grid);
    EXPECT_EQ(loaded.fusion->accuracy, probe.fusion->accuracy);
    EXPECT_EQ(loaded.weights, probe.weights);

    // A format-1 file may not carry a fusion weight (a reader of /1 would ignore it); a format-2 file must.
    json edited = file;
    edited["format"] = "dermlens.probe/1";
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }),
                HasSubstr("field 'fusion' needs format 'dermlens.probe/2', the file says 'dermlens.probe/1'"));
    edited = file;
    edited.erase("fusion");
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("no field 'fusion'"));
    edited = file;
    edited["fusion"].erase("model_sha256");
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("no field 'fusion.model_sha256'"));
    edited = file;
    edited["fusion"]["weight"] = 0.4;
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }),
                HasSubstr("the fusion weight 0.4 is not one of the grid's (0, 0.35, 0.7, 1)"));
    edited = file;
    edited["fusion"]["accuracy"].erase(0);
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("4 weights and 3 accuracies"));
    edited = file;
    edited["fusion"]["grid"][3] = 1.5;
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("must lie in [0, 1]"));
    edited = file;
    edited["fusion"]["strategy"] = "";
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("the strategy and model"));
    probe.fusion->rows = 0;
    EXPECT_THAT(error_of([&] { save_probe(probe, path); }), HasSubstr("tuned on 0 rows"));
}

TEST_F(ProbeFile, RefusesFeaturesOfAnotherEncoderNamingBoth) {
    const Probe probe = trained(ProbeMethod::LogReg, false);
    EXPECT_NO_THROW(check_compatible(probe, "p.probe", table_, "f.csv"));
    FeatureTable other = table_;
    other.encoder.mmproj_sha256 = "cd34";
    EXPECT_EQ(error_of([&] { check_compatible(probe, "p.probe", other, "f.csv"); }),
              "probe 'p.probe' was trained on features of encoder 'projected-mean|4:ab12|clip-336', but features "
              "file 'f.csv' comes from encoder 'projected-mean|4:cd34|clip-336'");
    other = table_;
    other.encoder.kind = FeatureKind::EncoderMean;
    EXPECT_THAT(error_of([&] { check_compatible(probe, "p.probe", other, "f.csv"); }),
                HasSubstr("encoder 'encoder-mean|4:ab12|clip-336'"));
    other = table_;
    other.encoder.preprocessing = "clip-896";
    EXPECT_THAT(error_of([&] { check_compatible(probe, "p.probe", other, "f.csv"); }), HasSubstr("clip-896"));
}

TEST_F(ProbeFile, RefusesAnotherDimensionOrUnknownLabels) {
    const Probe probe = trained(ProbeMethod::LogReg, false);
    FeatureTable wide = table_;
    wide.features = Eigen::MatrixXf::Zero(static_cast<Eigen::Index>(wide.size()), 9);
    EXPECT_EQ(error_of([&] { check_compatible(probe, "p.probe", wide, "f.csv"); }),
              "probe 'p.probe' takes 8-dimensional features, but features file 'f.csv' has 9 dimensions");
    FeatureTable relabelled = table_;
    relabelled.labels[4] = "melanoma";
    EXPECT_EQ(error_of([&] { check_compatible(probe, "p.probe", relabelled, "f.csv"); }),
              "features file 'f.csv' row 4 ('img4.jpg') has label 'melanoma', which probe 'p.probe' does not know "
              "(its labels: class0, class1, class2)");
    EXPECT_EQ(error_of([&] { check_label_set(probe, "p.probe", "ham10000"); }),
              "probe 'p.probe' is for label set 'mini', not 'ham10000'");
    EXPECT_NO_THROW(check_label_set(probe, "p.probe", "mini"));
}

TEST_F(ProbeFile, RefusesMalformedFiles) {
    const Probe probe = trained(ProbeMethod::LogReg, false);
    const fs::path path = dir_ / "p.probe";
    save_probe(probe, path);
    const json good = json::parse(std::ifstream(path));
    EXPECT_THAT(error_of([&] { load_probe(dir_ / "missing.probe"); }), HasSubstr("missing.probe': cannot open it"));
    {
        std::ofstream(dir_ / "broken.probe") << "{\"format\": ";
    }
    EXPECT_THAT(error_of([&] { load_probe(dir_ / "broken.probe"); }), HasSubstr("broken.probe': malformed JSON"));
    json edited = good;
    edited["format"] = "dermlens.probe/4";
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }),
                HasSubstr("format is 'dermlens.probe/4', this dermlens reads 'dermlens.probe/1', "
                          "'dermlens.probe/2' and 'dermlens.probe/3'"));
    edited = good;
    edited["calibration"]["per_class"] = true;  // class-conditional sets read as marginal by a /1 reader
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }),
                HasSubstr("field 'calibration.per_class' needs format 'dermlens.probe/3'"));
    edited = good;
    edited["calibration"].erase("seed");
    edited["calibration"]["randomized"] = true;
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("needs the field 'calibration.seed'"));
    edited = good;
    edited["calibration"]["score"] = "thr";
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("field 'calibration.score'"));
    edited = good;
    edited["calibration"]["labels"][0] = 7;
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("calibration label"));
    edited = good;
    edited["calibration"]["probabilities"].erase(0);
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("'calibration.probabilities' must be"));
    edited = good;
    edited.erase("bias");
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("edited.probe': no field 'bias'"));
    edited = good;
    edited["weights"][1].erase(0);
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }),
                HasSubstr("field 'weights[1]' has 7 numbers, expected 8"));
    edited = good;
    edited["encoder"]["kind"] = "cls-token";
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("field 'encoder.kind'"));
    edited = good;
    edited["calibration"]["scores"] = json::array({0.9, 0.1});
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("ascending"));
    edited = good;
    edited["dimension"] = "eight";
    EXPECT_THAT(error_of([&] { load_probe(write_json(edited)); }), HasSubstr("field 'dimension'"));
}

// A probe file from before issue 22: APS without randomisation, the scores only. It loads, gives
// the sets it gave (the prefix of cumulative probability <= q_hat), keeps its alpha adjustable,
// and refuses another score, which would need the calibration rows it does not have.
TEST_F(ProbeFile, OldFilesKeepLoadingWithTheirSets) {
    TrainParams params;
    params.seeds = 1;
    params.conformal.params = parse_conformal_score("aps-plain");
    const Probe fresh = train_probes(table_, params, "t").runs[0].probe;
    const fs::path path = dir_ / "new.probe";
    save_probe(fresh, path);
    json old = json::parse(std::ifstream(path));
    for (const char * key : {"per_class", "seed", "labels", "probabilities"}) {
        old["calibration"].erase(key);
    }
    const Probe loaded = load_probe(write_json(old));
    EXPECT_FALSE(loaded.calibration->has_rows());
    EXPECT_EQ(conformal_score_name(loaded.calibration->params), "aps-plain");
    const Eigen::MatrixXd p = loaded.probabilities(table_.features.topRows(30));
    CandidateParams conformal;
    conformal.mode = CandidateMode::Conformal;
    conformal.set.min_size = 0;
    const double q_hat = loaded.calibration->q_hat(0.1);
    const auto sets = candidate_sets(loaded, p, conformal);
    EXPECT_EQ(sets, candidate_sets(fresh, p, conformal));
    for (Eigen::Index i = 0; i < p.rows(); ++i) {
        std::vector<std::size_t> expected;
        double cumulative = 0.0;
        for (const std::size_t c : dermlens::metrics::ranked_classes(p.row(i))) {
            cumulative += p(i, static_cast<Eigen::Index>(c));
            if (cumulative <= q_hat) {
                expected.push_back(c);
            }
        }
        EXPECT_EQ(sets[static_cast<std::size_t>(i)], expected) << i;
    }
    Probe recalibrated = loaded;
    EXPECT_THAT(error_of([&] { recalibrate_probe(recalibrated, "old.probe", "lac", false); }),
                HasSubstr("keeps no calibration rows"));
    EXPECT_NO_THROW(recalibrate_probe(recalibrated, "old.probe", "aps-plain", false));  // what it has: nothing to do
}

TEST_F(ProbeFile, ClassConditionalCalibrationIsFormat3AndRoundTrips) {
    TrainParams params;
    params.seeds = 1;
    params.conformal.params = parse_conformal_score("aps");
    params.conformal.per_class = true;
    const Probe probe = train_probes(table_, params, "t").runs[0].probe;
    const fs::path path = dir_ / "mondrian.probe";
    save_probe(probe, path);
    EXPECT_EQ(json::parse(std::ifstream(path))["format"], "dermlens.probe/3");
    const Probe loaded = load_probe(path);
    ASSERT_TRUE(loaded.calibration->per_class);
    EXPECT_EQ(loaded.calibration->labels, probe.calibration->labels);
    EXPECT_EQ(loaded.calibration->probabilities, probe.calibration->probabilities);
    EXPECT_EQ(loaded.calibration->seed, probe.calibration->seed);
    EXPECT_EQ(loaded.calibration->thresholds(0.1, 3), probe.calibration->thresholds(0.1, 3));
    const Eigen::MatrixXd p = loaded.probabilities(table_.features.topRows(30));
    CandidateParams conformal;
    conformal.mode = CandidateMode::Conformal;
    EXPECT_EQ(candidate_sets(loaded, p, conformal), candidate_sets(probe, p, conformal));
    EXPECT_THAT(set_guarantee(*loaded.calibration, 0.1), HasSubstr("for each class"));
}

TEST_F(ProbeFile, RecalibratesForAnotherScoreOnTheKeptRows) {
    TrainParams params;
    params.seeds = 1;
    Probe probe = train_probes(table_, params, "t").runs[0].probe;
    ASSERT_EQ(conformal_score_name(probe.calibration->params), "lac");  // the default
    const std::vector<int> labels = probe.calibration->labels;
    recalibrate_probe(probe, "p.probe", "aps", true);
    EXPECT_EQ(conformal_score_name(probe.calibration->params), "aps");
    EXPECT_TRUE(probe.calibration->per_class);
    EXPECT_EQ(probe.calibration->labels, labels);  // the same rows
    recalibrate_probe(probe, "p.probe", "raps", false);  // lambda and k_reg chosen on 30 % of them
    ASSERT_TRUE(probe.calibration->tuning.has_value());
    EXPECT_TRUE(probe.calibration->per_class);  // --per-class only adds: kept
    Probe uncalibrated = probe;
    uncalibrated.calibration.reset();
    EXPECT_THAT(error_of([&] { recalibrate_probe(uncalibrated, "u.probe", "lac", false); }),
                HasSubstr("probe 'u.probe' has no conformal calibration"));
}

TEST_F(ProbeFile, CandidatesAreTopKOrTheConformalSet) {
    const Probe probe = trained(ProbeMethod::LogReg, false);
    const Eigen::MatrixXd p = probe.probabilities(table_.features.topRows(20));
    CandidateParams top;
    top.top_k = 2;
    for (const auto & set : candidate_sets(probe, p, top)) {
        EXPECT_EQ(set.size(), 2u);
    }
    CandidateParams conformal;
    conformal.mode = CandidateMode::Conformal;
    conformal.set.alpha = 0.05;  // a tighter level than calibrated: larger sets
    conformal.set.max_size = 2;
    for (const auto & set : candidate_sets(probe, p, conformal)) {
        EXPECT_GE(set.size(), 1u);
        EXPECT_LE(set.size(), 2u);
    }
    Probe uncalibrated = probe;
    uncalibrated.calibration.reset();
    EXPECT_THROW(candidate_sets(uncalibrated, p, conformal), dermlens::Error);
    conformal.set.min_size = 3;
    EXPECT_THROW(candidate_sets(probe, p, conformal), dermlens::Error);  // max below min
}

}  // namespace
