// `train-data export` and `reward score` end to end through the built CLI, on shared images:
// the export's rows scored back with group advantages, and the errors a user can make.
#include "support/run_process.h"
#include "support/temp_dir.h"
#include "cli/shared_images.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using dermlens::test::run_process;
using testing::HasSubstr;
using dermlens::test::shared_image;


TEST(CliRewards, ExportThenScoreWithGroupAdvantages) {
    dermlens::test::TempDir dir("cli_rewards");
    std::ofstream(dir.path() / "m.csv") << "image,label\n"
                                        << shared_image("melanoma", 0).string() << ",melanoma\n"
                                        << shared_image("nevus", 0).string() << ",nevus\n";
    const auto exported = run_process({DERMLENS_CLI, "train-data", "export", "--task", "mcq", "--format", "verl",
                                       "--manifest", (dir.path() / "m.csv").string(), "--label-set", "isic9class",
                                       "--out", (dir.path() / "mcq.jsonl").string(), "--seed", "3"});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    EXPECT_THAT(exported.out, HasSubstr("train: 2 rows"));

    // Two completions per item: item 0 right, then wrong; item 1 twice the same (advantage 0).
    std::ifstream rows(dir.path() / "mcq.jsonl");
    std::string line;
    std::getline(rows, line);
    const auto item = nlohmann::json::parse(nlohmann::json::parse(line)["reward_model"]["ground_truth"].get<std::string>());
    const std::string right = "<thinking>x</thinking> <final diagnosis>" + item["correct"].get<std::string>() + ", " +
                              item["malignancy"].get<std::string>() + "</final diagnosis>";
    std::ofstream(dir.path() / "c.jsonl") << nlohmann::json(right).dump() << "\n"
                                          << nlohmann::json("benign").dump() << "\n"
                                          << "{\"completion\": \"x\"}\n{\"completion\": \"x\"}\n";
    const auto scored = run_process({DERMLENS_CLI, "reward", "score", "--reward", "skinr1", "--items",
                                     (dir.path() / "mcq.jsonl").string(), "--completions",
                                     (dir.path() / "c.jsonl").string(), "--group-size", "2"});
    ASSERT_EQ(scored.exit_code, 0) << scored.err;
    std::istringstream out(scored.out);
    std::vector<nlohmann::json> lines;
    for (std::string l; std::getline(out, l);) {
        lines.push_back(nlohmann::json::parse(l));
    }
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_GT(lines[0]["score"].get<double>(), 1.25);
    EXPECT_EQ(lines[1]["score"], 0.0);
    EXPECT_NEAR(lines[0]["advantage"].get<double>(), 0.7071, 1e-3);  // (r - mean) / sample std, two values
    EXPECT_EQ(lines[2]["item"], 1);
    EXPECT_EQ(lines[3]["advantage"], 0.0);
    EXPECT_THAT(scored.err, HasSubstr("4 completions"));
}

TEST(CliRewards, ErrorsNameTheFlagOrTheLine) {
    dermlens::test::TempDir dir("cli_rewards_bad");
    std::ofstream(dir.path() / "items.jsonl") << "{\"task\": \"topk\", \"truth\": \"melanoma\"}\n";
    std::ofstream(dir.path() / "c.jsonl") << "\"a\"\n\"b\"\n\"c\"\n";
    const auto odd = run_process({DERMLENS_CLI, "reward", "score", "--reward", "skinflow-topk", "--items",
                                  (dir.path() / "items.jsonl").string(), "--completions",
                                  (dir.path() / "c.jsonl").string(), "--group-size", "2"});
    EXPECT_EQ(odd.exit_code, 3);
    EXPECT_THAT(odd.err, HasSubstr("line 3"));
    const auto easyr1 = run_process({DERMLENS_CLI, "train-data", "export", "--task", "sft", "--format", "easyr1",
                                     "--manifest", (dir.path() / "items.jsonl").string(), "--out",
                                     (dir.path() / "x.jsonl").string()});
    EXPECT_EQ(easyr1.exit_code, 2);
    EXPECT_THAT(easyr1.err, HasSubstr("--format easyr1"));
}

}  // namespace
