// `dermlens ground abstention | blind | attention` end to end through the built CLI on a
// generated tiny Gemma 3 model: the shared ISIC images (all of them), a CSV manifest of
// generated lesions whose masks come from a file, a box or segmentation, a missing mask file
// that fails its image only, and bad options refused with exit 2. Every summary is checked
// against the per-image rows of its report.
#include "model/testmodel.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using dermlens::test::ProcessResult;
using dermlens::test::read_text_file;
using dermlens::test::run_process;
using dermlens::test::TempDir;
using dermlens::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

const fs::path kIsic = fs::path(DERMLENS_SHARED_DIR) / "data" / "images" / "isic9class";
const std::vector<std::string> kDefaultStrategies{"direct", "describe-then-decide"};

// Generated lesion photos: skin colour (BGR) with a dark disc, 120 x 96.
constexpr int kWidth = 120;
constexpr int kHeight = 96;
const cv::Scalar kSkin(150, 170, 210);
const cv::Scalar kLesion(30, 30, 60);

std::size_t image_files_under(const fs::path & dir) {
    std::size_t count = 0;
    for (const auto & entry : fs::recursive_directory_iterator(dir)) {
        std::string extension = entry.path().extension().string();
        std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
        count += entry.is_regular_file() && (extension == ".jpg" || extension == ".jpeg" || extension == ".png") ? 1 : 0;
    }
    return count;
}

std::vector<std::string> csv_lines(const fs::path & path) {
    std::istringstream text(read_text_file(path));
    std::vector<std::string> lines;
    for (std::string line; std::getline(text, line);) {
        lines.push_back(line);
    }
    return lines;
}

std::size_t rows_without_error(const json & report) {
    return static_cast<std::size_t>(std::count_if(report["images"].begin(), report["images"].end(),
                                                  [](const json & row) { return !row.contains("error"); }));
}

// The abstention summary recomputed from the rows: images, failures, mask sources and, per
// strategy, abstentions and their rate; summary.csv holds the same numbers.
void expect_abstention_summary_matches_rows(const json & report, const fs::path & out,
                                            const std::vector<std::string> & strategies) {
    const json & rows = report["images"];
    const json & summary = report["summary"];
    const std::size_t tested = rows_without_error(report);
    EXPECT_EQ(summary["images"], rows.size());
    EXPECT_EQ(summary["tested"], tested);
    EXPECT_EQ(summary["failed"], rows.size() - tested);
    // Each masked image went through the encoder once, whatever the number of strategies.
    EXPECT_EQ(summary["encoder_runs"], tested);

    std::map<std::string, std::size_t> sources;
    std::map<std::string, std::size_t> abstentions;
    for (const auto & row : rows) {
        if (row.contains("error")) {
            continue;
        }
        ++sources[row["mask"]["source"].get<std::string>()];
        ASSERT_EQ(row["strategies"].size(), strategies.size()) << row.dump(2);
        for (const auto & strategy : strategies) {
            const json & decision = row["strategies"].at(strategy);
            // The "not sure" option was offered: the model gave it a probability.
            ASSERT_TRUE(decision["not_sure_probability"].is_number()) << decision.dump(2);
            EXPECT_GE(decision["not_sure_probability"].get<double>(), 0.0);
            EXPECT_LE(decision["not_sure_probability"].get<double>(), 1.0);
            const bool abstained = decision["abstained"];
            EXPECT_EQ(decision["final"].is_null(), abstained) << decision.dump(2);
            abstentions[strategy] += abstained ? 1 : 0;
        }
    }
    for (const auto & [source, count] : summary["mask_sources"].items()) {
        EXPECT_EQ(count.get<std::size_t>(), sources[source]) << source;
    }
    const std::vector<std::string> lines = csv_lines(out / "summary.csv");
    ASSERT_EQ(lines.size(), strategies.size() + 1);
    EXPECT_EQ(lines[0], "strategy,images,abstentions,abstention_rate");
    for (std::size_t i = 0; i < strategies.size(); ++i) {
        const std::string & strategy = strategies[i];
        const json & counts = summary["strategies"].at(strategy);
        EXPECT_EQ(counts["images"], tested);
        EXPECT_EQ(counts["abstentions"], abstentions[strategy]) << strategy;
        const double rate = tested == 0 ? 0.0 : static_cast<double>(abstentions[strategy]) / static_cast<double>(tested);
        EXPECT_DOUBLE_EQ(counts["abstention_rate"].get<double>(), rate) << strategy;
        EXPECT_THAT(lines[i + 1], testing::StartsWith(strategy + "," + std::to_string(tested) + "," +
                                                      std::to_string(abstentions[strategy]) + ","));
    }
}

// The blind summary recomputed from the rows: same diagnosis where both answers name the same
// label, abstentions on each side, the grey image's diagnoses, the encoder runs (every photo,
// the grey image once per size).
void expect_blind_summary_matches_rows(const json & report) {
    const json & rows = report["images"];
    const json & summary = report["summary"];
    const std::size_t tested = rows_without_error(report);
    std::size_t same = 0, photo_abstained = 0, grey_abstained = 0;
    std::map<std::string, std::size_t> grey_diagnoses;
    std::set<std::pair<int, int>> sizes;
    for (const auto & row : rows) {
        if (row.contains("error")) {
            continue;
        }
        const json & photo = row["photo"];
        const json & grey = row["grey"];
        const bool both = !photo["final"].is_null() && !grey["final"].is_null();
        const bool row_same = both && photo["final"] == grey["final"];
        EXPECT_EQ(row["same_diagnosis"], row_same) << row.dump(2);
        same += row_same ? 1 : 0;
        photo_abstained += photo["abstained"].get<bool>() ? 1 : 0;
        grey_abstained += grey["abstained"].get<bool>() ? 1 : 0;
        if (!grey["final"].is_null()) {
            ++grey_diagnoses[grey["final"].get<std::string>()];
        }
        sizes.emplace(row["width"].get<int>(), row["height"].get<int>());
    }
    EXPECT_EQ(summary["images"], rows.size());
    EXPECT_EQ(summary["tested"], tested);
    EXPECT_EQ(summary["same_diagnosis"], same);
    EXPECT_DOUBLE_EQ(summary["same_rate"].get<double>(), tested == 0 ? 0.0 : static_cast<double>(same) / tested);
    EXPECT_EQ(summary["photo_abstained"], photo_abstained);
    EXPECT_EQ(summary["grey_abstained"], grey_abstained);
    EXPECT_EQ(summary["grey_diagnoses"], json(grey_diagnoses));
    EXPECT_EQ(summary["encoder_runs"], tested + sizes.size());
}

// The attention summary recomputed from the rows: per strategy and map, the images that have
// the map, the mean and sample standard deviation of the lesion mass share, the pointing-game
// hit rate, the mean weight histogram; summary.csv holds one line per strategy and map.
void expect_attention_summary_matches_rows(const json & report, const fs::path & out,
                                           const std::vector<std::string> & strategies) {
    const json & summary = report["summary"];
    EXPECT_EQ(summary["tested"], rows_without_error(report));
    const std::vector<std::string> lines = csv_lines(out / "summary.csv");
    ASSERT_EQ(lines.size(), 1 + 2 * strategies.size());
    std::size_t line = 1;
    for (const auto & strategy : strategies) {
        for (const std::string map : {"label", "all"}) {
            std::vector<double> mass_shares, hits;
            std::vector<double> histogram_sums;
            for (const auto & row : report["images"]) {
                if (row.contains("error") || !row["strategies"][strategy]["grounding"]["maps"].contains(map)) {
                    continue;
                }
                const json & stats = row["strategies"][strategy]["grounding"]["maps"][map];
                mass_shares.push_back(stats["lesion"]["mass_share"]);
                hits.push_back(stats["lesion"]["pointing_game_hit"].get<bool>() ? 1.0 : 0.0);
                const json & histogram = stats["weight_histogram"];
                histogram_sums.resize(histogram.size());
                for (std::size_t bin = 0; bin < histogram.size(); ++bin) {
                    histogram_sums[bin] += histogram[bin]["token_fraction"].get<double>();
                }
            }
            const json & s = summary["strategies"][strategy][map];
            const double n = static_cast<double>(mass_shares.size());
            EXPECT_EQ(s["images"], mass_shares.size()) << strategy << " " << map;
            ASSERT_FALSE(mass_shares.empty()) << strategy << " " << map;
            double mean = 0, squares = 0;
            for (const double value : mass_shares) mean += value / n;
            for (const double value : mass_shares) squares += (value - mean) * (value - mean);
            EXPECT_NEAR(s["lesion_mass_share"]["mean"].get<double>(), mean, 1e-12);
            EXPECT_NEAR(s["lesion_mass_share"]["std"].get<double>(), n > 1 ? std::sqrt(squares / (n - 1)) : 0.0, 1e-12);
            double hit_rate = 0;
            for (const double hit : hits) hit_rate += hit / n;
            EXPECT_NEAR(s["pointing_game_hit_rate"]["mean"].get<double>(), hit_rate, 1e-12);
            double histogram_total = 0;
            for (std::size_t bin = 0; bin < histogram_sums.size(); ++bin) {
                EXPECT_NEAR(s["weight_histogram"][bin]["mean"].get<double>(), histogram_sums[bin] / n, 1e-12);
                histogram_total += s["weight_histogram"][bin]["mean"].get<double>();
            }
            EXPECT_NEAR(histogram_total, 1.0, 1e-9);  // each image's histogram holds all its tokens
            EXPECT_THAT(lines[line++], testing::StartsWith(strategy + "," + map + "," + std::to_string(mass_shares.size()) + ","));
        }
    }
}

class CliGround : public testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir("cli_ground");
        dermlens::testmodel::Options options;
        options.out_dir = dir_->path() / "gemma3";
        gemma3_ = dermlens::testmodel::make_test_model(options);
        write_lesions();
    }
    static void TearDownTestSuite() { delete dir_; }

    // lesion<i>.png: the disc at a different place each; mask0.png covers lesion 0's disc exactly.
    static void write_lesions() {
        for (int i = 0; i < 4; ++i) {
            cv::Mat3b image(kHeight, kWidth, cv::Vec3b(150, 170, 210));
            cv::circle(image, disc_centre(i), kDiscRadius, kLesion, cv::FILLED);
            cv::imwrite((dir() / ("lesion" + std::to_string(i) + ".png")).string(), image);
        }
        cv::Mat1b mask(kHeight, kWidth, uchar{0});
        cv::circle(mask, disc_centre(0), kDiscRadius, 255, cv::FILLED);
        cv::imwrite((dir() / "mask0.png").string(), mask);
    }

    static cv::Point disc_centre(int i) { return {40 + 12 * i, 48}; }

    static ProcessResult ground(const std::string & command, std::vector<std::string> options) {
        std::vector<std::string> argv{DERMLENS_CLI, "ground", command, "--model", gemma3_.model.string(), "--mmproj",
                                      gemma3_.mmproj.string(), "--threads", "1"};  // ctest runs one test per core
        argv.insert(argv.end(), options.begin(), options.end());
        return run_process(argv);
    }

    static json report(const fs::path & out) { return json::parse(read_text_file(out / "report.json")); }

    static const fs::path & dir() { return dir_->path(); }

    static constexpr int kDiscRadius = 18;
    static inline TempDir * dir_ = nullptr;
    static inline dermlens::testmodel::Files gemma3_;
};

TEST_F(CliGround, AbstentionRunsOnEveryIsicImageAndItsSummaryMatchesItsRows) {
    if (!fs::exists(kIsic)) {
        GTEST_SKIP() << "shared data folder absent: " << kIsic;
    }
    const fs::path out = dir() / "isic_abstention";
    const auto start = std::chrono::steady_clock::now();
    const auto run = ground("abstention", {"--manifest", kIsic.string(), "--label-set", "isic9class", "--out", out.string()});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(run.exit_code, 0) << run.err;
    RecordProperty("seconds", std::to_string(seconds));
    std::printf("ground abstention on %s: %.1f s\n", kIsic.c_str(), seconds);

    const json r = report(out);
    EXPECT_EQ(r["command"], "ground abstention");
    EXPECT_EQ(r["settings"]["strategies"], json(kDefaultStrategies));
    EXPECT_EQ(r["images"].size(), image_files_under(kIsic));
    EXPECT_EQ(r["summary"]["failed"], 0);
    expect_abstention_summary_matches_rows(r, out, kDefaultStrategies);
    for (const auto & row : r["images"]) {  // a folder manifest has no mask columns: every mask is segmented
        EXPECT_THAT(row["mask"]["source"].get<std::string>(), testing::StartsWith("auto"));
    }
    EXPECT_THAT(run.out, HasSubstr("describe-then-decide"));
    EXPECT_THAT(run.err, HasSubstr(std::to_string(image_files_under(kIsic)) + " images"));
}

TEST_F(CliGround, BlindRunsOnEveryIsicImageAndItsSummaryMatchesItsRows) {
    if (!fs::exists(kIsic)) {
        GTEST_SKIP() << "shared data folder absent: " << kIsic;
    }
    const fs::path out = dir() / "isic_blind";
    const auto start = std::chrono::steady_clock::now();
    const auto run = ground("blind", {"--manifest", kIsic.string(), "--label-set", "isic9class", "--out", out.string()});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::printf("ground blind on %s: %.1f s\n", kIsic.c_str(), seconds);

    const json r = report(out);
    EXPECT_EQ(r["command"], "ground blind");
    EXPECT_EQ(r["settings"]["strategies"], json({"direct"}));
    EXPECT_EQ(r["images"].size(), image_files_under(kIsic));
    EXPECT_EQ(r["summary"]["failed"], 0);
    expect_blind_summary_matches_rows(r);
    const std::vector<std::string> lines = csv_lines(out / "summary.csv");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(lines[1], testing::StartsWith("direct," + std::to_string(image_files_under(kIsic)) + "," +
                                              std::to_string(r["summary"]["same_diagnosis"].get<std::size_t>()) + ","));
    EXPECT_THAT(run.out, HasSubstr("same diagnosis"));
}

TEST_F(CliGround, EachMaskComesFromItsFileElseItsBoxElseSegmentation) {
    write_file(dir() / "masks.csv",
               "image,label,mask,box\n"
               "lesion0.png,melanoma,mask0.png,\n"
               "lesion1.png,nevus,,\"30,20,90,70\"\n"
               "lesion2.png,melanoma,,\n"
               "lesion3.png,nevus,mask0.png,\"0,0,10,10\"\n");
    const fs::path out = dir() / "masks";
    const auto run = ground("abstention", {"--manifest", (dir() / "masks.csv").string(), "--labels", "melanoma,nevus",
                                           "--out", out.string(), "--strategies", "direct", "--save-masked"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const json r = report(out);
    const json & rows = r["images"];
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0]["mask"]["source"], "file");
    EXPECT_EQ(rows[1]["mask"]["source"], "box");
    EXPECT_THAT(rows[2]["mask"]["source"].get<std::string>(), testing::StartsWith("auto"));
    EXPECT_EQ(rows[3]["mask"]["source"], "file");  // a mask file wins over the box
    const double disc_area = static_cast<double>(cv::countNonZero(cv::imread((dir() / "mask0.png").string(), cv::IMREAD_GRAYSCALE))) /
                             (kWidth * kHeight);
    EXPECT_DOUBLE_EQ(rows[0]["mask"]["area"].get<double>(), disc_area);
    EXPECT_DOUBLE_EQ(rows[1]["mask"]["area"].get<double>(), 60.0 * 50.0 / (kWidth * kHeight));
    expect_abstention_summary_matches_rows(r, out, {"direct"});
    EXPECT_EQ(r["summary"]["mask_sources"]["file"], 2);
    EXPECT_EQ(r["summary"]["mask_sources"]["box"], 1);

    // The saved masked image: the lesion under the mask file is painted over with skin, the rest kept.
    const cv::Mat3b original = cv::imread((dir() / "lesion0.png").string());
    const cv::Mat3b masked = cv::imread((out / rows[0]["masked_image"].get<std::string>()).string());
    ASSERT_EQ(masked.size(), original.size());
    const cv::Vec3b centre = masked(disc_centre(0));
    EXPECT_GT(centre[2], 150) << "the disc's centre still looks like the lesion";
    EXPECT_EQ(masked(5, kWidth - 5), original(5, kWidth - 5));
}

TEST_F(CliGround, RenamedMaskAndBoxColumnsAreRead) {
    write_file(dir() / "renamed.csv",
               "image,label,segmentation,lesion_box\n"
               "lesion0.png,melanoma,mask0.png,\n"
               "lesion1.png,nevus,,\"30,20,90,70\"\n");
    const fs::path out = dir() / "renamed";
    const auto run = ground("abstention", {"--manifest", (dir() / "renamed.csv").string(), "--labels", "melanoma,nevus",
                                           "--out", out.string(), "--strategies", "direct", "--mask-column",
                                           "segmentation", "--box-column", "lesion_box"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const json r = report(out);
    EXPECT_EQ(r["images"][0]["mask"]["source"], "file");
    EXPECT_EQ(r["images"][1]["mask"]["source"], "box");

    const auto absent = ground("abstention", {"--manifest", (dir() / "renamed.csv").string(), "--labels",
                                              "melanoma,nevus", "--out", out.string(), "--mask-column", "outline"});
    EXPECT_EQ(absent.exit_code, 2);
    EXPECT_THAT(absent.err, HasSubstr("--mask-column 'outline'"));
    EXPECT_THAT(absent.err, HasSubstr("no such column"));
}

TEST_F(CliGround, AMissingMaskFileFailsItsImageOnly) {
    write_file(dir() / "missing.csv",
               "image,label,mask\n"
               "lesion0.png,melanoma,mask0.png\n"
               "lesion1.png,nevus,no_such_mask.png\n"
               "lesion2.png,melanoma,\n");
    const fs::path out = dir() / "missing";
    const auto run = ground("abstention", {"--manifest", (dir() / "missing.csv").string(), "--labels", "melanoma,nevus",
                                           "--out", out.string()});
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_THAT(run.err, HasSubstr("no_such_mask.png"));
    const json r = report(out);
    const json & rows = r["images"];
    ASSERT_EQ(rows.size(), 3u);
    ASSERT_TRUE(rows[1].contains("error")) << rows[1].dump(2);
    EXPECT_THAT(rows[1]["error"]["message"].get<std::string>(), HasSubstr("no_such_mask.png"));
    EXPECT_EQ(rows[1]["image"], "lesion1.png");
    EXPECT_FALSE(rows[0].contains("error"));
    EXPECT_FALSE(rows[2].contains("error"));
    EXPECT_EQ(r["summary"]["failed"], 1);
    expect_abstention_summary_matches_rows(r, out, kDefaultStrategies);
}

TEST_F(CliGround, LimitTakesTheManifestsFirstImages) {
    const fs::path out = dir() / "limit";
    write_file(dir() / "four.csv", "image,label\nlesion0.png,melanoma\nlesion1.png,nevus\nlesion2.png,melanoma\n"
                                   "lesion3.png,nevus\n");
    const auto run = ground("blind", {"--manifest", (dir() / "four.csv").string(), "--labels", "melanoma,nevus",
                                      "--out", out.string(), "--limit", "2", "--not-sure"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const json r = report(out);
    ASSERT_EQ(r["images"].size(), 2u);
    EXPECT_EQ(r["images"][0]["image"], "lesion0.png");
    EXPECT_EQ(r["images"][1]["image"], "lesion1.png");
    expect_blind_summary_matches_rows(r);
}

TEST_F(CliGround, BadOptionsExitWithTwoAndSayWhy) {
    const std::string manifest = (dir() / "one.csv").string();
    write_file(manifest, "image,label\nlesion0.png,melanoma\n");
    const auto unknown = ground("abstention", {"--manifest", manifest, "--labels", "melanoma,nevus", "--out",
                                               (dir() / "bad").string(), "--strategies", "direct,guesswork"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_THAT(unknown.err, HasSubstr("guesswork"));
    EXPECT_FALSE(fs::exists(dir() / "bad")) << "nothing is written before the options are checked";

    const auto twice = ground("abstention", {"--manifest", manifest, "--labels", "melanoma,nevus", "--out",
                                             (dir() / "bad").string(), "--strategies", "direct,direct"});
    EXPECT_EQ(twice.exit_code, 2);
    EXPECT_THAT(twice.err, HasSubstr("named twice"));

    const auto no_out = ground("abstention", {"--manifest", manifest, "--labels", "melanoma,nevus"});
    EXPECT_EQ(no_out.exit_code, 2);
    EXPECT_THAT(no_out.err, HasSubstr("--out"));

    const auto blind_strategy = ground("blind", {"--manifest", manifest, "--labels", "melanoma,nevus", "--out",
                                                 (dir() / "bad").string(), "--strategy", "guesswork"});
    EXPECT_EQ(blind_strategy.exit_code, 2);
    EXPECT_THAT(blind_strategy.err, HasSubstr("guesswork"));

    // abstention offers "not sure" itself and compares --strategies: neither option is taken.
    const auto not_sure = ground("abstention", {"--manifest", manifest, "--labels", "melanoma,nevus", "--out",
                                                (dir() / "bad").string(), "--not-sure"});
    EXPECT_EQ(not_sure.exit_code, 2);
    EXPECT_THAT(not_sure.err, HasSubstr("--not-sure"));
    const auto topk = ground("abstention", {"--manifest", manifest, "--labels", "melanoma,nevus", "--out",
                                            (dir() / "bad").string(), "--strategies", "topk"});
    EXPECT_EQ(topk.exit_code, 2);
    EXPECT_THAT(topk.err, HasSubstr("--probe"));
}

TEST_F(CliGround, AttentionWritesItsPlotHeatmapsAndASummaryMatchingItsRows) {
    write_file(dir() / "attention.csv",
               "image,label,mask,box\n"
               "lesion0.png,melanoma,mask0.png,\n"
               "lesion1.png,nevus,,\"30,20,90,70\"\n"
               "lesion2.png,melanoma,,\n");
    const fs::path out = dir() / "attention";
    const auto start = std::chrono::steady_clock::now();
    const auto run = ground("attention", {"--manifest", (dir() / "attention.csv").string(), "--labels",
                                          "melanoma,nevus", "--out", out.string(), "--heatmaps"});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::printf("ground attention on 3 images: %.1f s\n", seconds);

    const json r = report(out);
    EXPECT_EQ(r["command"], "ground attention");
    ASSERT_EQ(r["images"].size(), 3u);
    EXPECT_EQ(r["images"][0]["mask"]["source"], "file");
    EXPECT_EQ(r["images"][1]["mask"]["source"], "box");
    EXPECT_THAT(r["images"][2]["mask"]["source"].get<std::string>(), testing::StartsWith("auto"));
    EXPECT_EQ(r["summary"]["encoder_runs"], 3);
    expect_attention_summary_matches_rows(r, out, kDefaultStrategies);

    const cv::Mat plot = cv::imread((out / "attention_histograms.png").string());
    EXPECT_FALSE(plot.empty()) << "no readable attention_histograms.png";
    for (const auto & strategy : kDefaultStrategies) {
        for (const std::string image : {"lesion0", "lesion1", "lesion2"}) {
            const fs::path folder = out / "heatmaps" / strategy / image;
            for (const std::string file : {"label.png", "all.png", "label.npy", "all.npy"}) {
                EXPECT_TRUE(fs::is_regular_file(folder / file)) << folder / file;
            }
            const cv::Mat overlay = cv::imread((folder / "label.png").string());
            EXPECT_EQ(overlay.cols, kWidth);
            EXPECT_EQ(overlay.rows, kHeight);
        }
    }
}

TEST_F(CliGround, AttentionRefusesABadLayerRange) {
    write_file(dir() / "single.csv", "image,label\nlesion0.png,melanoma\n");
    const auto run = ground("attention", {"--manifest", (dir() / "single.csv").string(), "--labels", "melanoma,nevus",
                                          "--out", (dir() / "layers").string(), "--attention-layers", "3"});
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_THAT(run.err, HasSubstr("--attention-layers"));
}

}  // namespace
