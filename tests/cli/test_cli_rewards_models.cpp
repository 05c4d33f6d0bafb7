// `reward score --judge-model` and `train-data export --model` end to end on a generated tiny model.
#include "cli/shared_images.h"
#include "model/testmodel.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using dermlens::test::run_process;
using dermlens::test::shared_image;

namespace {

// The two model paths on a generated tiny model: the caption judge (a text-only Engine under the
// judge grammar) and the trajectory writer (a VLM on each image). Random weights write nonsense,
// but the grammar keeps every judge reply a valid score and the exported trajectories keep their
// tag structure.
TEST(CliRewardsModels, CaptionJudgeAndTrajectoryWriterOnATinyModel) {
    dermlens::test::TempDir dir("cli_rewards_models");
    dermlens::testmodel::Options options;
    options.out_dir = dir.path() / "model";
    const auto model = dermlens::testmodel::make_test_model(options);

    std::ofstream(dir.path() / "items.jsonl")
        << R"({"task": "caption", "reference": {"color": "brown", "shape": "round", "size": "5 mm"}})" << "\n";
    std::ofstream(dir.path() / "c.jsonl") << nlohmann::json(R"({"color": "dark brown", "shape": "oval"})").dump() << "\n";
    const auto judged = run_process({DERMLENS_CLI, "reward", "score", "--reward", "skinflow-caption", "--items",
                                     (dir.path() / "items.jsonl").string(), "--completions",
                                     (dir.path() / "c.jsonl").string(), "--judge-model", model.model.string(),
                                     "--threads", "1"});
    ASSERT_EQ(judged.exit_code, 0) << judged.err;
    const auto line = nlohmann::json::parse(judged.out);
    EXPECT_EQ(line["detail"]["judge"], "model");
    EXPECT_GE(line["score"].get<double>(), 0.0);
    EXPECT_LE(line["score"].get<double>(), 10.0);
    EXPECT_EQ(line["size"], 0.0);  // empty in the prediction: not the judge's to score

    std::ofstream(dir.path() / "m.csv") << "image,label\n"
                                        << shared_image("melanoma", 1).string() << ",melanoma\n"
                                        << shared_image("nevus", 1).string() << ",nevus\n";
    const auto exported = run_process({DERMLENS_CLI, "train-data", "export", "--task", "sft", "--format", "trl",
                                       "--manifest", (dir.path() / "m.csv").string(), "--label-set", "isic9class",
                                       "--out", (dir.path() / "sft.jsonl").string(), "--model", model.model.string(),
                                       "--mmproj", model.mmproj.string(), "--threads", "1"});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    std::ifstream rows(dir.path() / "sft.jsonl");
    std::size_t count = 0;
    for (std::string row; std::getline(rows, row); ++count) {
        const auto text = nlohmann::json::parse(row)["messages"][1]["content"][0]["text"].get<std::string>();
        EXPECT_EQ(text.rfind("<thinking>", 0), 0u) << text;
        EXPECT_NE(text.find("</thinking> <diagnosis>"), std::string::npos) << text;
    }
    EXPECT_EQ(count, 6u);  // type 1 for both images, types 2 and 3 for each diagnosis
}

}  // namespace
