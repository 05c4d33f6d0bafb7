// `dermlens probe train | predict | eval` end to end through the built CLI, on
// synthetic feature files.
#include "probe/synthetic.h"
#include "support/run_process.h"
#include "vision/feature_table.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using dermlens::test::ProcessResult;
using dermlens::test::run_process;
using dermlens::vision::FeatureKind;
using dermlens::vision::FeatureTable;
using nlohmann::json;
using testing::HasSubstr;

class CliProbe : public testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / fmt::format("dermlens_cli_probe_{}", ::getpid());
        fs::create_directories(dir_);
        table_ = dermlens::test::as_table(dermlens::test::gaussian_classes(360, 24, 4, 0.8, 12));
        table_.encoder = {"feedbeef", FeatureKind::EncoderMean, "clip-896-siglip"};
        dermlens::vision::write_feature_table(table_, dir_ / "features.csv");
        dermlens::vision::write_feature_table(table_, dir_ / "features.npy");
        // The probe every test shares: logreg, 8 shots, 3 seeds.
        trained_ = probe({"train", "--features", path("features.csv"), "--shots", "8", "--seeds", "3", "--out",
                          path("p.probe"), "--json", "--report", path("train-report.json")});
    }
    static void TearDownTestSuite() { fs::remove_all(dir_); }

    static ProcessResult probe(std::vector<std::string> args) {
        args.insert(args.begin(), {DERMLENS_CLI, "probe"});
        return run_process(args);
    }
    static std::string path(const std::string & name) { return (dir_ / name).string(); }

    static inline fs::path dir_;
    static inline FeatureTable table_;
    static inline ProcessResult trained_;
};

TEST_F(CliProbe, TrainReportsEverySeedAndWritesTheProbe) {
    ASSERT_EQ(trained_.exit_code, 0) << trained_.err;
    const json report = json::parse(trained_.out);
    EXPECT_EQ(report, json::parse(std::ifstream(path("train-report.json"))));
    EXPECT_EQ(report["method"], "logreg");
    EXPECT_EQ(report["classes"], json({"class0", "class1", "class2", "class3"}));
    EXPECT_EQ(report["encoder"], "encoder-mean|8:feedbeef|clip-896-siglip");
    EXPECT_EQ(report["split"]["generated"], true);
    EXPECT_EQ(report["split"]["train"].get<int>() + report["split"]["val"].get<int>() +
                  report["split"]["calib"].get<int>() + report["split"]["test"].get<int>(),
              360);
    ASSERT_EQ(report["runs"].size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(report["runs"][i]["seed"], i);
        EXPECT_EQ(report["runs"][i]["rows_per_class"], json({8, 8, 8, 8}));
        EXPECT_EQ(report["runs"][i]["hyperparameters"]["selection"], "cross-validation");
    }
    EXPECT_EQ(report["test"]["seeds"], 3);
    EXPECT_GT(report["test"]["accuracy"]["mean"].get<double>(), 0.7);
    EXPECT_GT(report["test"]["accuracy"]["std"].get<double>(), 0.0);
    EXPECT_GT(report["test"]["coverage"]["mean"].get<double>(), 0.7);
    EXPECT_EQ(report["runs"][0]["calibration"]["score"], "lac");
    EXPECT_EQ(report["runs"][0]["calibration"]["per_class"], false);
    const json file = json::parse(std::ifstream(path("p.probe")));
    EXPECT_EQ(file["format"], "dermlens.probe/1");
    EXPECT_EQ(file["training"]["seed"], 0);
}

TEST_F(CliProbe, TrainPrintsASummary) {
    const auto result = probe({"train", "--features", path("features.npy"), "--shots", "4", "--seeds", "2",
                               "--method", "linear", "--score", "raps"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr("linear probe, 4 classes, 4 shots per class, dimension 24, seeds 0..1"));
    EXPECT_THAT(result.out, HasSubstr("seed 1: lr = "));
    EXPECT_THAT(result.out, HasSubstr("test split ("));
    EXPECT_THAT(result.out, HasSubstr("mean ± std over 2 seeds"));
    EXPECT_THAT(result.out, HasSubstr("conformal coverage, raps alpha 0.1 (%)"));
    EXPECT_THAT(result.out, HasSubstr("conformal raps sets, alpha 0.1, "));
    EXPECT_THAT(result.out, HasSubstr("held-apart rows)"));
}

TEST_F(CliProbe, EvalScoresTheSameTestRowsAsTraining) {
    ASSERT_EQ(trained_.exit_code, 0) << trained_.err;
    const auto result = probe({"eval", "--probe", path("p.probe"), "--features", path("features.csv"), "--json",
                               "--report", path("eval.json")});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const json eval = json::parse(result.out);
    EXPECT_EQ(eval, json::parse(std::ifstream(path("eval.json"))));
    // The file has no split column: eval recomputes the probe's own split, so seed 0's test scores repeat.
    EXPECT_EQ(eval["evaluation"], json::parse(trained_.out)["runs"][0]["test"]);
    const auto all = probe({"eval", "--probe", path("p.probe"), "--features", path("features.npy"), "--split", "all"});
    ASSERT_EQ(all.exit_code, 0) << all.err;
    EXPECT_THAT(all.out, HasSubstr("split all: 360 rows, 4 classes"));
    EXPECT_THAT(all.out, HasSubstr("ROC-AUC, macro one-vs-rest (%)"));
}

TEST_F(CliProbe, EvalReportsConformalSetsPerClassAndPerSize) {
    ASSERT_EQ(trained_.exit_code, 0) << trained_.err;
    const auto result = probe({"eval", "--probe", path("p.probe"), "--features", path("features.csv"), "--json"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const json evaluation = json::parse(result.out)["evaluation"];
    const json & c = evaluation["conformal"];
    EXPECT_EQ(c["score"], "lac");  // the default
    EXPECT_EQ(c["per_class"], false);
    EXPECT_THAT(c["guarantee"].get<std::string>(), HasSubstr("marginal over images"));
    const double rows = evaluation["rows"].get<double>();
    double per_class_rows = 0.0, per_class_covered = 0.0, per_size_rows = 0.0, per_size_covered = 0.0,
           per_size_classes = 0.0, singletons = 0.0;
    ASSERT_EQ(c["per_class_sets"].size(), 4u);
    for (const auto & [name, s] : c["per_class_sets"].items()) {
        per_class_rows += s["rows"].get<double>();
        per_class_covered += s["rows"].get<double>() * s["coverage"].get<double>();
    }
    for (const auto & s : c["by_set_size"]) {
        per_size_rows += s["rows"].get<double>();
        per_size_covered += s["rows"].get<double>() * s["coverage"].get<double>();
        per_size_classes += s["rows"].get<double>() * s["size"].get<double>();
        singletons += s["size"] == 1 ? s["rows"].get<double>() : 0.0;
    }
    // Per class and per size partition the rows: their counts add up to the overall figures.
    EXPECT_EQ(per_class_rows, rows);
    EXPECT_EQ(per_size_rows, rows);
    EXPECT_NEAR(per_class_covered / rows, c["coverage"].get<double>(), 1e-12);
    EXPECT_NEAR(per_size_covered / rows, c["coverage"].get<double>(), 1e-12);
    EXPECT_NEAR(per_size_classes / rows, c["mean_set_size"].get<double>(), 1e-12);
    EXPECT_NEAR(singletons / rows, c["singleton_share"].get<double>(), 1e-12);
    EXPECT_EQ(c["empty_share"], 0.0);  // the default minimum of one class

    const auto mondrian = probe({"eval", "--probe", path("p.probe"), "--features", path("features.csv"), "--score",
                                 "aps", "--per-class", "--json"});
    ASSERT_EQ(mondrian.exit_code, 0) << mondrian.err;
    const json m = json::parse(mondrian.out)["evaluation"]["conformal"];
    EXPECT_EQ(m["score"], "aps");
    EXPECT_EQ(m["per_class"], true);
    EXPECT_THAT(m["guarantee"].get<std::string>(), HasSubstr("for each class"));
    const auto text = probe({"eval", "--probe", path("p.probe"), "--features", path("features.csv"), "--score", "raps",
                             "--raps-lambda", "0.1", "--raps-k-reg", "1"});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_THAT(text.out, HasSubstr("conformal coverage, raps alpha 0.1 (%)"));
    EXPECT_THAT(text.out, HasSubstr("per set size:"));
    EXPECT_THAT(text.out, HasSubstr("one-class conformal sets (%)"));
    EXPECT_EQ(probe({"eval", "--probe", path("p.probe"), "--features", path("features.csv"), "--score", "thr"}).exit_code,
              2);
    const auto grouped = probe({"eval", "--probe", path("p.probe"), "--features", path("features.csv"),
                                "--group-column", "fitzpatrick"});
    EXPECT_EQ(grouped.exit_code, 2);
    EXPECT_THAT(grouped.err, HasSubstr("--group-column 'fitzpatrick' reads the manifest's column: give --manifest"));
}

TEST_F(CliProbe, PerClassTrainingWarnsOfClassesWithTooFewCalibrationRows) {
    // At alpha 0.05 a class needs 19 calibration rows; the generated calib split has fewer per class.
    const auto result = probe({"train", "--features", path("features.csv"), "--seeds", "1", "--per-class", "--alpha",
                               "0.05", "--out", path("mondrian.probe")});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.err, HasSubstr("fewer than 19 calibration rows"));
    EXPECT_THAT(result.err, HasSubstr("their sets always hold them"));
    EXPECT_EQ(json::parse(std::ifstream(path("mondrian.probe")))["format"], "dermlens.probe/3");
    const auto predict = probe({"predict", "--probe", path("mondrian.probe"), "--features", path("features.csv"),
                                "--candidates", "conformal", "--json"});
    ASSERT_EQ(predict.exit_code, 0) << predict.err;
    EXPECT_THAT(predict.err, HasSubstr("fewer than 19 calibration rows"));
    EXPECT_EQ(json::parse(predict.out)["candidates"]["per_class"], true);
}

TEST_F(CliProbe, PredictListsCandidates) {
    ASSERT_EQ(trained_.exit_code, 0) << trained_.err;
    const auto top = probe({"predict", "--probe", path("p.probe"), "--features", path("features.csv"), "--top-k",
                            "2", "--json"});
    ASSERT_EQ(top.exit_code, 0) << top.err;
    const json predictions = json::parse(top.out);
    EXPECT_EQ(predictions["candidates"]["mode"], "topk");
    ASSERT_EQ(predictions["predictions"].size(), 360u);
    const json & first = predictions["predictions"][0];
    EXPECT_EQ(first["image"], "img0.jpg");
    EXPECT_EQ(first["top"].size(), 2u);
    EXPECT_EQ(first["candidates"].size(), 2u);
    EXPECT_EQ(first["probabilities"].size(), 4u);
    EXPECT_GE(first["top"][0]["probability"].get<double>(), first["top"][1]["probability"].get<double>());

    const auto conformal = probe({"predict", "--probe", path("p.probe"), "--features", path("features.csv"),
                                  "--candidates", "conformal", "--alpha", "0.2", "--max-set", "3", "--json"});
    ASSERT_EQ(conformal.exit_code, 0) << conformal.err;
    const json sets = json::parse(conformal.out);
    EXPECT_EQ(sets["candidates"]["alpha"], 0.2);
    for (const auto & row : sets["predictions"]) {
        EXPECT_GE(row["candidates"].size(), 1u);
        EXPECT_LE(row["candidates"].size(), 3u);
        EXPECT_EQ(row["candidates"][0], row["top"][0]["label"]);
    }
    const auto text = probe({"predict", "--probe", path("p.probe"), "--features", path("features.csv")});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_THAT(text.out, testing::StartsWith("candidates: the top 5\nimg0.jpg\n  top 4: "));
}

TEST_F(CliProbe, RefusesBadFeatureFiles) {
    const auto write = [&](const std::string & name, const std::string & text) {
        std::ofstream(dir_ / name) << text;
        return path(name);
    };
    auto result = probe({"train", "--features", write("nan.csv", "image,label,f0\na,x,1\nb,y,zz\n")});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_THAT(result.err, HasSubstr("nan.csv': line 3, column f0: 'zz' is not a number"));
    result = probe({"train", "--features", write("ragged.csv", "image,label,f0,f1\na,x,1,2\nb,y,3\n")});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_THAT(result.err, HasSubstr("line 3: 3 fields, the header has 4"));
    std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }";
    header.resize(128 - 10 - 1, ' ');  // magic, version and length take 10 bytes; the header ends in '\n'
    header += '\n';
    std::string npy = "\x93NUMPY";
    npy += '\x01';
    npy += '\x00';
    npy += static_cast<char>(header.size());
    npy += '\x00';
    npy += header;
    write("ints.npy.csv", "image\na\n");
    result = probe({"eval", "--probe", path("p.probe"), "--features", write("ints.npy", npy + std::string(8, '\0'))});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_THAT(result.err, HasSubstr("ints.npy': .npy dtype '<i8' is not supported"));
    result = probe({"predict", "--probe", path("p.probe"), "--features", write("cut.npy", npy.substr(0, 30))});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_THAT(result.err, HasSubstr("truncated .npy header"));
    result = probe({"train", "--features", path("absent.csv")});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_THAT(result.err, HasSubstr("absent.csv': cannot open it"));
}

TEST_F(CliProbe, RefusesFeaturesOfAnotherEncoder) {
    ASSERT_EQ(trained_.exit_code, 0) << trained_.err;
    FeatureTable other = table_;
    other.encoder.preprocessing = "clip-336";
    dermlens::vision::write_feature_table(other, dir_ / "other.csv");
    auto result = probe({"eval", "--probe", path("p.probe"), "--features", path("other.csv")});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_THAT(result.err, HasSubstr(fmt::format("probe '{}' was trained on features of encoder "
                                                  "'encoder-mean|8:feedbeef|clip-896-siglip', but features file '{}' "
                                                  "comes from encoder 'encoder-mean|8:feedbeef|clip-336'",
                                                  path("p.probe"), path("other.csv"))));
    FeatureTable narrow = table_;
    narrow.features.conservativeResize(Eigen::NoChange, 20);
    dermlens::vision::write_feature_table(narrow, dir_ / "narrow.csv");
    result = probe({"predict", "--probe", path("p.probe"), "--features", path("narrow.csv")});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_THAT(result.err, HasSubstr("takes 24-dimensional features, but features file"));
    result = probe({"eval", "--probe", path("p.probe"), "--features", path("features.csv"), "--label-set", "ham10000"});
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_THAT(result.err, HasSubstr("is for label set '(none)', not 'ham10000'"));
}

TEST_F(CliProbe, RefusesBadOptions) {
    EXPECT_EQ(probe({"train", "--features", path("features.csv"), "--method", "svm"}).exit_code, 2);
    EXPECT_EQ(probe({"train", "--features", path("features.csv"), "--alpha", "1.5"}).exit_code, 2);
    EXPECT_EQ(probe({"train", "--features", path("features.csv"), "--seeds", "0"}).exit_code, 2);
    EXPECT_EQ(probe({"train", "--features", path("features.csv"), "--label-set", "no-such-set"}).exit_code, 2);
    const auto uncalibrated_train = probe({"train", "--features", path("features.csv"), "--seeds", "1", "--out",
                                           path("nocalib.probe"), "--C", "1"});
    ASSERT_EQ(uncalibrated_train.exit_code, 0) << uncalibrated_train.err;
    EXPECT_EQ(probe({"predict", "--probe", path("p.probe"), "--features", path("features.csv"), "--candidates",
                     "best"})
                  .exit_code,
              2);
    EXPECT_EQ(probe({"predict", "--probe", path("p.probe"), "--features", path("features.csv"), "--min-set", "3",
                     "--max-set", "2", "--candidates", "conformal"})
                  .exit_code,
              2);
    EXPECT_NE(probe({"train"}).exit_code, 0);
}

// The library names its parameters (learning_rate, c); the CLI says the flags that set them.
TEST_F(CliProbe, RefusalsNameTheFlags) {
    const auto seeds = probe({"train", "--features", path("features.csv"), "--seeds", "0"});
    EXPECT_THAT(seeds.err, HasSubstr("error: --seeds must be at least 1"));
    const auto c = probe({"train", "--features", path("features.csv"), "--C", "-1"});
    EXPECT_EQ(c.exit_code, 2);
    EXPECT_THAT(c.err, HasSubstr("error: --C -1 must be positive"));
    const auto lr = probe({"train", "--features", path("features.csv"), "--method", "linear", "--lr", "0"});
    EXPECT_EQ(lr.exit_code, 2);
    EXPECT_THAT(lr.err, HasSubstr("error: --lr 0 must be positive"));
    // A report that cannot be written is an input problem (exit 3) naming the file and its missing folder.
    const auto report = probe({"train", "--features", path("features.csv"), "--seeds", "1", "--out",
                               path("r.probe"), "--report", path("missing/r.json")});
    EXPECT_EQ(report.exit_code, 3);
    EXPECT_THAT(report.err, HasSubstr(fmt::format("--report '{}': cannot create it: folder '{}' does not exist",
                                                  path("missing/r.json"), path("missing"))));
}

TEST_F(CliProbe, FeaturesComeFromOneSource) {
    const auto neither = probe({"train", "--shots", "2"});
    EXPECT_EQ(neither.exit_code, 2);
    EXPECT_THAT(neither.err, HasSubstr("give either --features FILE or --manifest FILE --mmproj FILE"));
    EXPECT_EQ(probe({"train", "--features", path("features.csv"), "--manifest", path("m.csv"), "--mmproj", "x"})
                  .exit_code,
              2);
    const auto no_projector = probe({"eval", "--probe", path("p.probe"), "--manifest", path("m.csv")});
    EXPECT_EQ(no_projector.exit_code, 2);
    EXPECT_THAT(no_projector.err, HasSubstr(fmt::format("--manifest '{}' needs --mmproj", path("m.csv"))));
    std::ofstream(path("m.csv")) << "image,label\na.jpg,nevus\n";
    std::ofstream(path("fake.mmproj")) << "not a gguf";
    const auto bad_projector = probe({"predict", "--probe", path("p.probe"), "--manifest", path("m.csv"), "--mmproj",
                                      path("fake.mmproj"), "--cache", path("none.sqlite")});
    EXPECT_NE(bad_projector.exit_code, 0);
    EXPECT_THAT(bad_projector.err, HasSubstr(path("fake.mmproj")));
}

}  // namespace
