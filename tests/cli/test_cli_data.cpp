// `dermlens data` end to end through the built CLI on figures written for the test: captions
// split and paired (a mismatched figure reported, not paired), age / sex / flags added, images
// under 300 pixels and flagged records left out, the statistics per modality; then
// `data vqa-generate` on a generated tiny text model (a text-only Engine) writes two to four
// turns per caption, each kept or rejected with a rule's reason.
#include "support/json_lines.h"
#include "support/run_process.h"
#include "support/temp_dir.h"
#include "model/testmodel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>
#include <map>

namespace {

namespace fs = std::filesystem;
using dermlens::test::read_json_lines;
using dermlens::test::run_process;
using nlohmann::json;

json run_json(std::vector<std::string> args) {
    args.insert(args.begin(), {DERMLENS_CLI, "data"});
    args.push_back("--json");
    const auto run = run_process(args);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return json::parse(run.out);
}

void image(const fs::path & file, int width, int height) {
    cv::imwrite(file.string(), cv::Mat(height, width, CV_8UC3, cv::Scalar(120, 90, 200)));
}

TEST(CliData, SplitAnnotateFilterStatsAndWriteTurns) {
    const dermlens::test::TempDir dir("cli_data");
    for (const char * name : {"f1a.png", "f1b.png", "f2a.png", "f2b.png", "f4.png"}) {
        image(dir / name, 400, 320);
    }
    image(dir / "f3.png", 200, 500);
    {
        std::ofstream figures(dir / "figures.jsonl");
        figures << json{{"figure", "1"}, {"modality", "clinical"},
                        {"caption", "Figure 1 Psoriasis in a 45-year-old man. (A) Plaques on the elbow. (B) Nail pitting."},
                        {"images", {"f1b.png", "f1a.png"}}}.dump() << "\n"
                << json{{"figure", "2"}, {"modality", "dermoscopic"},
                        {"caption", "(A) Melanoma. (B) Histology. (C) Regression."}, {"images", {"f2a.png", "f2b.png"}}}.dump()
                << "\n"
                << json{{"figure", "3"}, {"modality", "clinical"},
                        {"caption", "Condylomata on the penile shaft of a young man."}, {"images", {"f3.png"}}}.dump() << "\n"
                << json{{"figure", "4"}, {"modality", "dermoscopic"},
                        {"caption", "Dermoscopy of a nevus in a woman in her 30s."}, {"images", {"f4.png"}}}.dump() << "\n";
    }
    const json split = run_json({"split-captions", (dir / "figures.jsonl").string(), "--out", (dir / "pairs.jsonl").string()});
    EXPECT_EQ(split["pairs"], 4);
    ASSERT_EQ(split["mismatches"].size(), 1U);
    EXPECT_EQ(split["mismatches"][0]["reason"], "3 panel labels (A, B, C) but 2 images");
    const auto pairs = read_json_lines(dir / "pairs.jsonl");
    EXPECT_EQ(pairs[0]["image"], "f1a.png");
    EXPECT_EQ(pairs[0]["caption"], "Psoriasis in a 45-year-old man. Plaques on the elbow.");
    EXPECT_EQ(pairs[0]["modality"], "clinical");

    const json annotated =
        run_json({"annotate", (dir / "pairs.jsonl").string(), "--out", (dir / "annotated.jsonl").string()});
    EXPECT_EQ(annotated["with_age"], 3);  // the two psoriasis panels and the woman in her 30s
    EXPECT_EQ(annotated["with_sex"], 4);
    EXPECT_EQ(annotated["flagged"], 1);
    EXPECT_EQ(read_json_lines(dir / "annotated.jsonl")[3]["age"]["low"], 30);

    const json filtered = run_json({"filter", (dir / "annotated.jsonl").string(), "--out", (dir / "kept.jsonl").string(),
                                    "--remove-flagged"});
    EXPECT_EQ(filtered["kept"], 3);
    ASSERT_EQ(filtered["removed"].size(), 1U);
    EXPECT_EQ(filtered["removed"][0]["reason"], "200 x 500 pixels: a side is under 300");

    const json stats = run_json({"stats", (dir / "kept.jsonl").string()});
    ASSERT_EQ(stats["modalities"].size(), 3U);
    EXPECT_EQ(stats["modalities"][0]["modality"], "clinical");
    EXPECT_EQ(stats["modalities"][0]["records"], 2);
    EXPECT_EQ(stats["modalities"][2]["modality"], "all");
    EXPECT_EQ(stats["modalities"][2]["female"], 1);

    dermlens::testmodel::Options options;
    options.out_dir = dir / "model";
    const auto model = dermlens::testmodel::make_test_model(options);
    const json written = run_json({"vqa-generate", (dir / "kept.jsonl").string(), "--out", (dir / "qa.jsonl").string(),
                                   "--model", model.model.string(), "--threads", "1", "--max-tokens", "2600",
                                   "--questions", (dir / "questions.jsonl").string()});
    // 2600 tokens hold the longest reply the grammar allows (4 turns of 200 + 400 characters), so
    // every reply parses and each caption has 2 to 4 turns, kept or rejected for a rule.
    std::map<std::string, std::size_t> turns_per_image;
    const auto records = read_json_lines(dir / "qa.jsonl");
    ASSERT_EQ(records.size(), 3U);
    std::size_t kept = 0;
    for (const json & record : records) {
        turns_per_image[record["image"]] += record["qa"].size();
        kept += record["qa"].size();
    }
    EXPECT_EQ(written["kept"], kept);
    EXPECT_EQ(read_json_lines(dir / "questions.jsonl").size(), kept);
    for (const json & rejection : written["rejected"]) {
        EXPECT_THAT(rejection["reason"].get<std::string>(),
                    testing::AnyOf(testing::StartsWith("forbidden word"), testing::StartsWith("number"),
                                   testing::StartsWith("diagnosis"), testing::StartsWith("answer of")));
        ++turns_per_image[rejection["image"]];
    }
    ASSERT_EQ(turns_per_image.size(), 3U);
    for (const auto & [image, turns] : turns_per_image) {
        EXPECT_GE(turns, 2U) << image;
        EXPECT_LE(turns, 4U) << image;
    }
}

}  // namespace

namespace {

TEST(CliData, RefusesBadInputNamingIt) {
    const dermlens::test::TempDir dir("cli_data_bad");
    std::ofstream(dir / "figures.jsonl") << R"({"figure": "7", "caption": "(A) Plaque. (B) Scale."})" << "\n";
    auto run = run_process({DERMLENS_CLI, "data", "split-captions", (dir / "figures.jsonl").string(), "--out",
                            (dir / "pairs.jsonl").string()});
    EXPECT_NE(run.exit_code, 0);
    EXPECT_THAT(run.err, testing::HasSubstr("figure 1: no 'images' list"));
    std::ofstream(dir / "pairs.jsonl") << R"({"image": "absent.png", "caption": "Plaque."})" << "\n";
    run = run_process({DERMLENS_CLI, "data", "filter", (dir / "pairs.jsonl").string(), "--out", (dir / "kept.jsonl").string()});
    EXPECT_NE(run.exit_code, 0);
    EXPECT_THAT(run.err, testing::HasSubstr("absent.png': cannot read it"));
    std::ofstream(dir / "notjson.jsonl") << "caption: plaque\n";
    run = run_process({DERMLENS_CLI, "data", "stats", (dir / "notjson.jsonl").string()});
    EXPECT_NE(run.exit_code, 0);
    EXPECT_THAT(run.err, testing::HasSubstr("line 1: not a JSON object"));
}

}  // namespace
