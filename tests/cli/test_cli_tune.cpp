// `dermlens tune` end to end through the built CLI on a generated tiny Gemma 3 model and a
// probe trained on its features: the fusion weight chosen on the validation split is one of
// the grid, stored in the probe with the model and strategy, and a following `diagnose`
// with that probe fuses with it; manifests that cannot be tuned on are refused clearly.
#include "pipeline_fixture.h"

#include "probe/fusion.h"
#include "probe/probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

namespace {

namespace fs = std::filesystem;
using dermlens::test::PipelineFixture;
using dermlens::test::ProcessResult;
using dermlens::test::run_process;
using dermlens::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

class CliTune : public testing::Test {
protected:
    static void SetUpTestSuite() { fixture_ = new PipelineFixture("cli_tune"); }
    static void TearDownTestSuite() { delete fixture_; }

    static ProcessResult run(const std::string & command, std::vector<std::string> options) {
        std::vector<std::string> argv{DERMLENS_CLI, command};
        const auto model = fixture_->model_args();
        argv.insert(argv.end(), model.begin(), model.end());
        argv.insert(argv.end(), options.begin(), options.end());
        return run_process(argv);
    }

    static inline PipelineFixture * fixture_ = nullptr;
};

TEST_F(CliTune, StoresAWeightOfTheGridThatDiagnoseThenFusesWith) {
    const fs::path tuned = fixture_->dir / "tuned.probe";
    const auto tune = run("tune", {"--probe", fixture_->probe.string(), "--manifest", fixture_->manifest.string(),
                                   "--strategy", "topk", "--out", tuned.string(), "--json"});
    ASSERT_EQ(tune.exit_code, 0) << tune.err;
    EXPECT_THAT(tune.err, HasSubstr("tune: 4 images: 4 encoded"));  // the 4 val rows, each encoded once
    const json summary = json::parse(tune.out);
    EXPECT_EQ(summary["split"], "val");
    EXPECT_EQ(summary["rows"], 4);
    EXPECT_EQ(summary["grid"].size(), dermlens::probe::default_fusion_grid().size());

    const dermlens::probe::Probe probe = dermlens::probe::load_probe(tuned);
    ASSERT_TRUE(probe.fusion.has_value());
    const auto & fusion = *probe.fusion;
    EXPECT_EQ(fusion.grid, dermlens::probe::default_fusion_grid());
    EXPECT_NE(std::find(fusion.grid.begin(), fusion.grid.end(), fusion.weight), fusion.grid.end()) << fusion.weight;
    EXPECT_EQ(fusion.weight, summary["weight"].get<double>());
    EXPECT_EQ(fusion.strategy, "topk");
    EXPECT_EQ(fusion.rows, 4u);
    EXPECT_EQ(fusion.model_sha256, summary["model_sha256"]);
    EXPECT_EQ(fusion.model_sha256.size(), 64u);
    // The untuned probe is left as it was when --out names another file.
    EXPECT_FALSE(dermlens::probe::load_probe(fixture_->probe).fusion.has_value());

    const auto diagnose = run("diagnose", {"--probe", tuned.string(), "--strategy", "topk", "--json",
                                           fixture_->images[4].string()});
    ASSERT_EQ(diagnose.exit_code, 0) << diagnose.err;
    const json report = json::parse(diagnose.out).at(0);
    ASSERT_TRUE(report["fusion_weight"].is_number()) << report.dump(2);
    EXPECT_EQ(report["fusion_weight"].get<double>(), fusion.weight);
    std::vector<double> probe_side, vlm_side;
    for (const auto & candidate : report["candidates"]) {
        probe_side.push_back(candidate["probe"]);
        vlm_side.push_back(candidate["vlm"]);
    }
    const std::vector<double> expected = dermlens::probe::fuse(probe_side, vlm_side, fusion.weight);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_NEAR(report["candidates"][i]["fused"].get<double>(), expected[i], 1e-12);
    }
}

TEST_F(CliTune, TextTableAndOverwritingTheProbe) {
    const fs::path copy = fixture_->dir / "copy.probe";
    fs::copy_file(fixture_->probe, copy, fs::copy_options::overwrite_existing);
    const auto tune = run("tune", {"--probe", copy.string(), "--manifest", fixture_->manifest.string(), "--strategy",
                                   "direct"});
    ASSERT_EQ(tune.exit_code, 0) << tune.err;
    EXPECT_THAT(tune.out, HasSubstr("weight  accuracy  log loss"));
    EXPECT_THAT(tune.out, HasSubstr("<- chosen"));
    EXPECT_THAT(tune.out, HasSubstr("wrote " + copy.string()));
    const dermlens::probe::Probe probe = dermlens::probe::load_probe(copy);
    ASSERT_TRUE(probe.fusion.has_value());
    EXPECT_EQ(probe.fusion->strategy, "direct");
}

TEST_F(CliTune, RefusesWhatItCannotTuneOn) {
    const std::string probe = fixture_->probe.string();
    const fs::path no_split = fixture_->dir / "no-split.csv";
    write_file(no_split, "image,label\n" + fixture_->images[0].string() + ",melanoma\n");
    auto result = run("tune", {"--probe", probe, "--manifest", no_split.string()});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_THAT(result.err, HasSubstr(no_split.string()));
    EXPECT_THAT(result.err, HasSubstr("no split column"));

    result = run("tune", {"--probe", probe, "--manifest", fixture_->manifest.string(), "--split", "calib"});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_THAT(result.err, HasSubstr("no rows of split 'calib'"));

    const fs::path other_label = fixture_->dir / "other-label.csv";
    write_file(other_label, "image,label,split\n" + fixture_->images[0].string() + ",dermatofibroma,val\n");
    result = run("tune", {"--probe", probe, "--manifest", other_label.string()});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_THAT(result.err, HasSubstr("line 2: label 'dermatofibroma' is not one of the probe's classes"));

    result = run("tune", {"--manifest", fixture_->manifest.string()});
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_THAT(result.err, HasSubstr("--probe"));
}

}  // namespace
