// `dermlens bench-cpu` end to end: it times both attention paths of both graphs of a generated
// tiny model, remembers the winners in the cache folder's store, and `diagnose` with `auto`
// then runs the remembered paths with bench-cpu's medians as the reason in its settings; an
// explicit path is reported as set, and other threads are measured anew.
#include "model/testmodel.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

using dermlens::test::run_process;
using json = nlohmann::json;

class CliBenchCpu : public testing::Test {
protected:
    void SetUp() override {
        dermlens::testmodel::Options options;
        options.out_dir = dir_ / "gemma3";
        files_ = dermlens::testmodel::make_test_model(options);
        cv::Mat image(96, 128, CV_8UC3, cv::Scalar(150, 170, 210));
        cv::circle(image, {60, 48}, 30, cv::Scalar(30, 30, 60), cv::FILLED);
        image_ = dir_ / "lesion.png";
        cv::imwrite(image_.string(), image);
    }

    dermlens::test::ProcessResult cli(std::vector<std::string> args) const {
        args.insert(args.begin(), DERMLENS_CLI);
        return run_process(args, {{"DERMLENS_CACHE_DIR", (dir_ / "cache").string()}});
    }

    json diagnose_settings(const std::vector<std::string> & options) const {
        std::vector<std::string> args{"diagnose", "--json", "-m", files_.model.string(), "--mmproj",
                                      files_.mmproj.string(), "--labels", "melanoma,nevus"};
        args.insert(args.end(), options.begin(), options.end());
        args.push_back(image_.string());
        const auto done = cli(args);
        EXPECT_EQ(done.exit_code, 0) << done.err;
        return json::parse(done.out).at(0).at("settings");
    }

    dermlens::test::TempDir dir_{"cli_bench_cpu"};
    dermlens::testmodel::Files files_;
    std::filesystem::path image_;
};

TEST_F(CliBenchCpu, MeasuresRemembersAndDiagnoseUsesIt) {
    const auto bench = cli({"bench-cpu", "-m", files_.model.string(), "--mmproj", files_.mmproj.string(), "-t", "1",
                            "--rounds", "3", "--json"});
    ASSERT_EQ(bench.exit_code, 0) << bench.err;
    const json report = json::parse(bench.out);
    EXPECT_EQ(report.at("threads"), 1);
    EXPECT_TRUE(std::filesystem::exists(report.at("store").get<std::string>()));
    ASSERT_EQ(report.at("graphs").size(), 2u);
    std::map<std::string, std::string> winner;
    std::map<std::string, std::string> why;
    for (const auto & graph : report.at("graphs")) {
        EXPECT_EQ(graph.at("flash_rounds_ms").size(), 3u);
        EXPECT_EQ(graph.at("plain_rounds_ms").size(), 3u);
        EXPECT_GT(graph.at("plain_over_flash").get<double>(), 0.0);
        EXPECT_EQ(graph.at("auto_runs"), graph.at("flash_ms") < graph.at("plain_ms") ? "on" : "off");
        winner[graph.at("graph")] = graph.at("auto_runs");
        why[graph.at("graph")] = fmt::format("auto, {}: flash {:.1f} ms vs plain {:.1f} ms per attention",
                                             graph.at("auto_runs").get<std::string>(), graph.at("flash_ms").get<double>(),
                                             graph.at("plain_ms").get<double>());
    }

    // diagnose runs bench-cpu's winners, with its medians as the reason.
    const json remembered = diagnose_settings({"-t", "1"});
    EXPECT_EQ(remembered.at("vision_flash_attention"), "auto");
    EXPECT_EQ(remembered.at("vision_flash_attention_ran"), winner["vision"]);
    EXPECT_EQ(remembered.at("flash_attention_ran"), winner["text"]);
    EXPECT_EQ(remembered.at("vision_flash_attention_why"), why["vision"]);
    EXPECT_EQ(remembered.at("flash_attention_why"), why["text"]);

    const json set = diagnose_settings({"-t", "1", "--vision-flash-attn", "off"});
    EXPECT_EQ(set.at("vision_flash_attention_ran"), "off");
    EXPECT_EQ(set.at("vision_flash_attention_why"), "set: off");

    // Other threads: both graphs measured anew and remembered beside the first decisions.
    diagnose_settings({"-t", "2"});
    std::ifstream in(report.at("store").get<std::string>());
    const json store = json::parse(in);
    std::map<int, int> per_threads;
    for (const auto & entry : store.at("decisions")) {
        ++per_threads[entry.at("key").at("threads").get<int>()];
    }
    EXPECT_EQ(per_threads, (std::map<int, int>{{1, 2}, {2, 2}})) << store.dump(2);
}

TEST_F(CliBenchCpu, RefusesBadOptions) {
    const auto no_rounds = cli({"bench-cpu", "-m", files_.model.string(), "--mmproj", files_.mmproj.string(),
                                "--rounds", "0"});
    EXPECT_NE(no_rounds.exit_code, 0);
    EXPECT_NE(no_rounds.err.find("--rounds"), std::string::npos) << no_rounds.err;
    const auto swapped = cli({"bench-cpu", "-m", files_.mmproj.string(), "--mmproj", files_.model.string()});
    EXPECT_NE(swapped.exit_code, 0);
    EXPECT_NE(swapped.err.find("mmproj"), std::string::npos) << swapped.err;
}

}  // namespace
