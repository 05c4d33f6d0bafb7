// `dermlens embed` end to end through the built CLI on a generated tiny Gemma 3 model:
// every image encoded once, failures reported without stopping, a second run served from
// the cache without loading any model, resumption after an interruption (a real SIGKILL),
// feature export, and refusals with the right exit codes.
#include "model/testmodel.h"
#include "support/run_process.h"
#include "support/temp_dir.h"
#include "vision/feature_table.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sqlite3.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

namespace {

namespace fs = std::filesystem;
using dermlens::test::ProcessResult;
using dermlens::test::run_process;
using dermlens::test::TempDir;
using dermlens::test::write_file;
using testing::HasSubstr;
using testing::Not;

const fs::path kIsic = fs::path(DERMLENS_SHARED_DIR) / "data" / "images" / "isic9class";

class CliEmbed : public testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir("cli_embed");
        dermlens::testmodel::Options options;
        options.out_dir = *dir_ / "gemma3";
        gemma3_ = dermlens::testmodel::make_test_model(options);
        fs::create_directories(*dir_ / "images");
        for (int i = 0; i < 4; ++i) {
            cv::Mat image(96 + 8 * i, 128, CV_8UC3, cv::Scalar(150, 170, 210));
            cv::circle(image, {40 + 15 * i, 48}, 20 + 4 * i, cv::Scalar(40, 60 + 20 * i, 90), cv::FILLED);
            cv::imwrite((*dir_ / "images" / ("lesion" + std::to_string(i) + ".png")).string(), image);
        }
        write_file(*dir_ / "images" / "corrupt.jpg", "\xFF\xD8\xFF\xE0 this JPEG stops here");
        write_file(*dir_ / "data.csv",
                   "image,label,split\n"
                   "images/lesion0.png,melanoma,train\n"
                   "images/lesion1.png,nevus,train\n"
                   "images/corrupt.jpg,nevus,test\n"
                   "images/lesion2.png,melanoma,test\n"
                   "images/missing.jpg,nevus,test\n"
                   "images/lesion3.png,nevus,test\n");
    }
    static void TearDownTestSuite() { delete dir_; }

    static ProcessResult embed(const fs::path & manifest, const fs::path & cache, std::vector<std::string> extra = {},
                               const fs::path & model = gemma3_.model) {
        std::vector<std::string> argv{DERMLENS_CLI, "embed",          "--manifest", manifest.string(),
                                      "--model",    model.string(),   "--mmproj",   gemma3_.mmproj.string(),
                                      "--cache",    cache.string(),   "--threads",  "1"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_process(argv);
    }

    static inline TempDir * dir_ = nullptr;
    static inline dermlens::testmodel::Files gemma3_;
};

TEST_F(CliEmbed, EncodesEachImageOnceReportsFailuresAndServesReRunsFromTheCache) {
    TempDir work("embed_run");
    const fs::path cache = work / "e.sqlite";
    const auto first = embed(*dir_ / "data.csv", cache);
    EXPECT_EQ(first.exit_code, 1) << first.err;
    EXPECT_THAT(first.out, HasSubstr("embed: 6 images: 4 encoded, 0 cached, 2 failed"));
    EXPECT_THAT(first.out, HasSubstr("cache: " + cache.string() + " (4 images for this encoder)"));
    EXPECT_THAT(first.out, HasSubstr("failed: images/corrupt.jpg: "));
    EXPECT_THAT(first.out, HasSubstr("failed: images/missing.jpg: "));
    EXPECT_THAT(first.err, HasSubstr("data.csv' line 4: "));  // the corrupt image's row
    EXPECT_THAT(first.err, HasSubstr("data.csv' line 6: "));  // the missing one's

    // Everything usable is cached: no model is loaded (this path does not even exist).
    const auto second = embed(*dir_ / "data.csv", cache, {}, work / "no-such-model.gguf");
    EXPECT_EQ(second.exit_code, 1) << second.err;
    EXPECT_THAT(second.out, HasSubstr("embed: 6 images: 0 encoded, 4 cached, 2 failed"));
    EXPECT_THAT(second.err, Not(HasSubstr("no-such-model")));
}

TEST_F(CliEmbed, ResumesWhereAnEarlierRunStopped) {
    TempDir work("embed_resume");
    write_file(work / "first.csv",
               "image,label\n" + (*dir_ / "images/lesion0.png").string() + ",melanoma\n" +
                   (*dir_ / "images/lesion1.png").string() + ",nevus\n");
    const fs::path cache = work / "e.sqlite";
    ASSERT_EQ(embed(work / "first.csv", cache).exit_code, 0);
    const auto rest = embed(*dir_ / "data.csv", cache);
    EXPECT_THAT(rest.out, HasSubstr("embed: 6 images: 2 encoded, 2 cached, 2 failed"));
}

TEST_F(CliEmbed, ExportsTheManifestsFeaturesLeavingFailedImagesOut) {
    TempDir work("embed_export");
    const fs::path csv = work / "features.csv";
    const auto run = embed(*dir_ / "data.csv", work / "e.sqlite", {"--export", csv.string()});
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_THAT(run.err, HasSubstr("exported 4 images x 64 encoder-mean features"));
    const auto table = dermlens::vision::read_feature_table(csv);
    EXPECT_EQ(table.size(), 4u);
    EXPECT_EQ(table.dimension(), 64u);
    EXPECT_EQ(table.encoder.kind, dermlens::vision::FeatureKind::EncoderMean);
    EXPECT_THAT(table.encoder.preprocessing, HasSubstr("layer=post-ln"));
    EXPECT_THAT(table.images, testing::ElementsAre("images/lesion0.png", "images/lesion1.png", "images/lesion2.png",
                                                   "images/lesion3.png"));
    EXPECT_THAT(table.splits, testing::ElementsAre("train", "train", "test", "test"));

    const fs::path npy = work / "features.npy";
    const auto again = embed(*dir_ / "data.csv", work / "e.sqlite", {"--export", npy.string(), "--kind", "projected-mean"});
    EXPECT_THAT(again.out, HasSubstr("0 encoded, 4 cached"));
    const auto projected = dermlens::vision::read_feature_table(npy);
    EXPECT_EQ(projected.size(), 4u);
    EXPECT_EQ(projected.encoder.kind, dermlens::vision::FeatureKind::ProjectedMean);
    EXPECT_EQ(projected.encoder.mmproj_sha256, table.encoder.mmproj_sha256);
    EXPECT_FALSE(projected.features.isApprox(table.features));
}

TEST_F(CliEmbed, JsonSummary) {
    TempDir work("embed_json");
    const auto run = embed(*dir_ / "data.csv", work / "e.sqlite", {"--json"});
    const auto summary = nlohmann::json::parse(run.out);
    EXPECT_EQ(summary["images"], 6);
    EXPECT_EQ(summary["encoded"], 4);
    EXPECT_EQ(summary["cached"], 0);
    ASSERT_EQ(summary["failed"].size(), 2u);
    EXPECT_EQ(summary["failed"][0]["image"], "images/corrupt.jpg");
    EXPECT_THAT(summary["preprocessing"].get<std::string>(), HasSubstr("gemma3;"));
    EXPECT_EQ(summary["mmproj_sha256"].get<std::string>().size(), 64u);
}

TEST_F(CliEmbed, DefaultCacheLivesInTheCacheDirectory) {
    TempDir work("embed_default");
    const auto run = run_process({DERMLENS_CLI, "embed", "--manifest", (*dir_ / "images").string(), "--model",
                                  gemma3_.model.string(), "--mmproj", gemma3_.mmproj.string(), "-t", "1"},
                                 {{"DERMLENS_CACHE_DIR", (work / "cachedir").string()}});
    // The images folder has no class subfolders: refused before anything is created.
    EXPECT_EQ(run.exit_code, 3) << run.err;
    EXPECT_THAT(run.err, HasSubstr("no class folders"));
    write_file(work / "one.csv", "image,label\n" + (*dir_ / "images/lesion0.png").string() + ",nevus\n");
    const auto ok = run_process({DERMLENS_CLI, "embed", "--manifest", (work / "one.csv").string(), "--model",
                                 gemma3_.model.string(), "--mmproj", gemma3_.mmproj.string(), "-t", "1"},
                                {{"DERMLENS_CACHE_DIR", (work / "cachedir").string()}});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_TRUE(fs::exists(work / "cachedir" / "embeddings.sqlite"));
    EXPECT_THAT(ok.out, HasSubstr((work / "cachedir" / "embeddings.sqlite").string()));
}

TEST_F(CliEmbed, RefusalsNameTheInputAndExitWithItsCode) {
    TempDir work("embed_refusals");
    const fs::path cache = work / "e.sqlite";
    const auto expect = [](const ProcessResult & result, int code, const std::vector<std::string> & fragments) {
        EXPECT_EQ(result.exit_code, code) << result.err;
        for (const auto & fragment : fragments) {
            EXPECT_THAT(result.err, HasSubstr(fragment));
        }
    };
    expect(embed(*dir_ / "data.csv", cache, {"--kind", "cls-token"}), 2, {"cls-token"});
    expect(embed(*dir_ / "data.csv", cache, {"--export", (work / "f.txt").string()}), 2, {"f.txt", ".csv or .npy"});
    expect(embed(work / "absent.csv", cache), 3, {"absent.csv", "file not found"});
    write_file(work / "nolabel.csv", "image,diagnosis\na.png,nevus\n");
    expect(embed(work / "nolabel.csv", cache), 3, {"nolabel.csv' line 1", "no 'label' column"});
    write_file(work / "notadb.sqlite", "this is not a database, it is a text file of some length........");
    expect(embed(*dir_ / "data.csv", work / "notadb.sqlite"), 3, {"notadb.sqlite", "not an SQLite database"});
    const auto swapped = run_process({DERMLENS_CLI, "embed", "--manifest", (*dir_ / "data.csv").string(), "--model",
                                      gemma3_.model.string(), "--mmproj", gemma3_.model.string(), "--cache",
                                      cache.string()});
    expect(swapped, 4, {gemma3_.model.string(), "not a vision projector"});
    EXPECT_FALSE(fs::exists(cache)) << "nothing is created before the inputs are known good";
}

std::size_t cached_rows(const fs::path & cache) {
    sqlite3 * db = nullptr;
    std::size_t rows = 0;
    if (sqlite3_open_v2(cache.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt * stmt = nullptr;
        if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM encodings", -1, &stmt, nullptr) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW) {
            rows = static_cast<std::size_t>(sqlite3_column_int64(stmt, 0));
        }
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return rows;
}

// The 144 real ISIC images (folder-per-class tree) with the tiny model: a run killed with
// SIGKILL part-way leaves a usable cache; the next run encodes only the rest; a third run
// is served entirely from the cache without a model; the export has every image; a 4-shot
// probe trains from the cache and its evaluation report is written.
TEST_F(CliEmbed, IsicFolderEndToEndWithAnInterruption) {
    if (!fs::exists(kIsic)) {
        GTEST_SKIP() << "shared data folder absent: " << kIsic;
    }
    TempDir work("embed_isic");
    const fs::path cache = work / "e.sqlite";
    const std::vector<std::string> argv{DERMLENS_CLI, "embed", "--manifest", kIsic.string(), "--model",
                                        gemma3_.model.string(), "--mmproj", gemma3_.mmproj.string(), "--cache",
                                        cache.string(), "-t", "1"};

    const pid_t pid = ::fork();
    if (pid == 0) {
        if (std::freopen("/dev/null", "w", stdout) == nullptr || std::freopen("/dev/null", "w", stderr) == nullptr) {
            ::_exit(126);
        }
        std::vector<char *> args;
        for (const auto & arg : argv) {
            args.push_back(const_cast<char *>(arg.c_str()));
        }
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (cached_rows(cache) < 10 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    const std::size_t survived = cached_rows(cache);
    ASSERT_GE(survived, 10u);
    ASSERT_LT(survived, 144u) << "the run ended before it could be interrupted";

    const auto resumed = run_process(argv);
    EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_THAT(resumed.out, HasSubstr(fmt::format("embed: 144 images: {} encoded, {} cached, 0 failed", 144 - survived,
                                                   survived)));

    std::vector<std::string> cached_only = argv;
    cached_only[5] = (work / "no-such-model.gguf").string();
    cached_only.insert(cached_only.end(), {"--export", (work / "isic.csv").string()});
    const auto again = run_process(cached_only);
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_THAT(again.out, HasSubstr("embed: 144 images: 0 encoded, 144 cached, 0 failed"));
    const auto table = dermlens::vision::read_feature_table(work / "isic.csv");
    EXPECT_EQ(table.size(), 144u);
    EXPECT_EQ(std::set<std::string>(table.labels.begin(), table.labels.end()).size(), 9u);
    EXPECT_TRUE(table.features.allFinite());

    // A 4-shot probe straight from the cache (no model), then its evaluation report.
    const std::vector<std::string> from_cache{"--manifest", kIsic.string(), "--mmproj", gemma3_.mmproj.string(),
                                              "--cache", cache.string()};
    std::vector<std::string> train{DERMLENS_CLI, "probe", "train", "--shots", "4", "--seeds", "2", "--label-set",
                                   "isic9class", "--out", (work / "isic.probe").string(), "--json"};
    train.insert(train.end(), from_cache.begin(), from_cache.end());
    const auto trained = run_process(train);
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    const auto report = nlohmann::json::parse(trained.out);
    EXPECT_EQ(report["classes"].size(), 9u);
    EXPECT_EQ(report["runs"][0]["rows_per_class"], nlohmann::json(std::vector<int>(9, 4)));

    std::vector<std::string> evaluate{DERMLENS_CLI, "probe", "eval", "--probe", (work / "isic.probe").string(),
                                      "--report", (work / "eval.json").string()};
    evaluate.insert(evaluate.end(), from_cache.begin(), from_cache.end());
    const auto evaluated = run_process(evaluate);
    ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
    std::ifstream written(work / "eval.json");
    ASSERT_TRUE(written) << "no evaluation report";
    const auto evaluation = nlohmann::json::parse(written)["evaluation"];
    // The same probe on the same test rows as training's first seed: the same figures.
    EXPECT_EQ(evaluation, report["runs"][0]["test"]);
    EXPECT_GT(evaluation["rows"].get<int>(), 0);
    for (const char * metric : {"accuracy", "macro_f1", "balanced_accuracy", "top_k_accuracy", "roc_auc"}) {
        EXPECT_GE(evaluation[metric].get<double>(), 0.0) << metric;
        EXPECT_LE(evaluation[metric].get<double>(), 1.0) << metric;
    }
    EXPECT_GE(evaluation["conformal"]["coverage"].get<double>(), 0.0);

    // Training on the exported feature file gives the very same probe figures.
    const auto from_file = run_process({DERMLENS_CLI, "probe", "train", "--shots", "4", "--seeds", "2", "--label-set",
                                        "isic9class", "--json", "--features", (work / "isic.csv").string()});
    ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
    EXPECT_EQ(nlohmann::json::parse(from_file.out)["test"], report["test"]);
}

}  // namespace
