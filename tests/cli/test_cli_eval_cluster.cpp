// `dermlens eval` across processes, on the real launchers, through the built CLI on a generated
// tiny model and the shared ISIC images (one ggml thread per process): a 3-way evaluation
// launched by Open MPI's mpirun with --shard auto and by GNU parallel, merged from its root with
// `eval merge --out ROOT`, equals the unsharded run (summary.json, summary.csv, report.md and
// every sample but its timings); a Slurm array task killed with SIGKILL is refused by the merge,
// resumes when rerun, and the merge then equals the unsharded run; a second process on a run
// folder being written is refused at once; several `dermlens embed` processes filling one
// embedding cache at once store every image once, readable, the same as one process would.
// A launcher binary that is absent skips its test (scripts/setup installs openmpi-bin and parallel).
#include "common/file_lock.h"
#include "eval/run_store.h"
#include "model/testmodel.h"
#include "support/json_lines.h"
#include "support/run_process.h"
#include "support/temp_dir.h"
#include "vision/feature_table.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
using dermlens::test::ProcessResult;
using dermlens::test::read_json_lines;
using dermlens::test::read_text_file;
using dermlens::test::run_process;
using dermlens::test::start_process;
using dermlens::test::TempDir;
using dermlens::test::wait_process;
using nlohmann::json;
using testing::HasSubstr;

const fs::path kIsic = fs::path(DERMLENS_SHARED_DIR) / "data" / "images" / "isic9class";

// The path of `program` on PATH, or "" when it is not installed.
std::string find_program(const std::string & program) {
    const char * path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const fs::path candidate = fs::path(dir) / program;
        if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
    }
    return "";
}

// samples.jsonl without the timings, which differ from run to run.
std::vector<json> samples_without_timings(const fs::path & out) {
    std::vector<json> samples = read_json_lines(out / "samples.jsonl");
    for (json & sample : samples) sample.erase("timings");
    return samples;
}

void expect_same_run(const fs::path & merged, const fs::path & reference) {
    for (const char * file : {"summary.json", "summary.csv", "report.md"}) {
        EXPECT_EQ(read_text_file(merged / file), read_text_file(reference / file)) << file;
    }
    const auto samples = samples_without_timings(merged);
    EXPECT_FALSE(samples.empty());
    EXPECT_EQ(samples, samples_without_timings(reference));
}

class CliEvalCluster : public testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir("cli_eval_cluster");
        dermlens::testmodel::Options options;
        options.out_dir = dir_->path() / "gemma3";
        gemma3_ = dermlens::testmodel::make_test_model(options);
    }
    static void TearDownTestSuite() { delete dir_; }

    void SetUp() override {
        if (!fs::exists(kIsic)) {
            GTEST_SKIP() << "shared data folder absent: " << kIsic;
        }
    }

    // One thread per process: the shards share the machine's cores.
    static std::vector<std::string> eval_options(const std::vector<std::string> & run) {
        std::vector<std::string> argv{"--protocol", "skinr1-mcq",  "--manifest", kIsic.string(), "--label-set",
                                      "isic9class", "--model",     gemma3_.model.string(),       "--mmproj",
                                      gemma3_.mmproj.string(),     "--threads",  "1",            "--no-cache"};
        argv.insert(argv.end(), run.begin(), run.end());
        return argv;
    }

    static std::vector<std::string> eval_argv(const std::vector<std::string> & run) {
        std::vector<std::string> argv{DERMLENS_CLI, "eval"};
        const auto options = eval_options(run);
        argv.insert(argv.end(), options.begin(), options.end());
        return argv;
    }

    static ProcessResult merge(const fs::path & root) {
        return run_process({DERMLENS_CLI, "eval", "merge", "--out", root.string()});
    }

    // The unsharded run of `run` options, computed once per option set.
    static fs::path reference(const std::vector<std::string> & run) {
        static std::map<std::vector<std::string>, fs::path> done;
        auto found = done.find(run);
        if (found == done.end()) {
            const fs::path out = dir() / ("reference" + std::to_string(done.size()));
            std::vector<std::string> argv = eval_argv(run);
            argv.insert(argv.end(), {"--out", out.string()});
            const auto result = run_process(argv);
            EXPECT_EQ(result.exit_code, 0) << result.err;
            found = done.emplace(run, out).first;
        }
        return found->second;
    }

    static const fs::path & dir() { return dir_->path(); }

    static inline TempDir * dir_ = nullptr;
    static inline dermlens::testmodel::Files gemma3_;
};

const std::vector<std::string> kSmallRun{"--seeds", "1", "--limit", "6"};

TEST_F(CliEvalCluster, AThreeWayOpenMpiRunMergesFromItsRootToTheUnshardedRun) {
    const std::string mpirun = find_program("mpirun");
    if (mpirun.empty()) {
        GTEST_SKIP() << "mpirun (Debian openmpi-bin) is not installed";
    }
    const fs::path root = dir() / "mpi";
    std::vector<std::string> argv{mpirun, "--oversubscribe", "--allow-run-as-root", "-n", "3", DERMLENS_CLI, "eval"};
    const auto options = eval_options(kSmallRun);
    argv.insert(argv.end(), options.begin(), options.end());
    argv.insert(argv.end(), {"--shard", "auto", "--out", root.string(), "--resume"});
    const auto launched = run_process(argv);
    ASSERT_EQ(launched.exit_code, 0) << launched.err;
    for (int rank = 0; rank < 3; ++rank) {
        EXPECT_THAT(launched.err, HasSubstr(fmt::format("eval: shard {}/3 from Open MPI (OMPI_COMM_WORLD_RANK={} "
                                                        "OMPI_COMM_WORLD_SIZE=3): {}/shard-{}-of-3",
                                                        rank + 1, rank, root.string(), rank + 1)));
    }
    const auto merged = merge(root);
    ASSERT_EQ(merged.exit_code, 0) << merged.err;
    EXPECT_THAT(merged.err, HasSubstr("eval merge: 3 runs"));
    expect_same_run(root, reference(kSmallRun));
}

TEST_F(CliEvalCluster, AThreeWayGnuParallelRunMergesFromItsRootToTheUnshardedRun) {
    const std::string parallel = find_program("parallel");
    if (parallel.empty()) {
        GTEST_SKIP() << "GNU parallel (Debian parallel) is not installed";
    }
    const fs::path root = dir() / "parallel";
    std::vector<std::string> argv{parallel, "--will-cite", "--halt", "now,fail=1", "-j", "3", DERMLENS_CLI, "eval"};
    const auto options = eval_options(kSmallRun);
    argv.insert(argv.end(), options.begin(), options.end());
    argv.insert(argv.end(), {"--shard", "{}/3", "--out", (root / "shard-{}-of-3").string(), "--resume", ":::", "1",
                             "2", "3"});
    const auto launched = run_process(argv);
    ASSERT_EQ(launched.exit_code, 0) << launched.err;
    const auto merged = merge(root);
    ASSERT_EQ(merged.exit_code, 0) << merged.err;
    expect_same_run(root, reference(kSmallRun));
}

// A Slurm array task as sbatch --array=1-3 starts it (1-based ids), the command every task runs.
std::vector<std::pair<std::string, std::string>> slurm_task(int id) {
    return {{"SLURM_ARRAY_TASK_ID", std::to_string(id)}, {"SLURM_ARRAY_TASK_MIN", "1"},
            {"SLURM_ARRAY_TASK_COUNT", "3"}, {"SLURM_ARRAY_TASK_MAX", "3"}};
}

TEST_F(CliEvalCluster, AKilledArrayTaskIsRefusedByTheMergeResumesWhenRerunAndTheMergeIsTheUnshardedRun) {
    const std::vector<std::string> run{"--seeds", "2", "--limit", "12"};
    const fs::path root = dir() / "slurm_array";
    std::vector<std::string> argv = eval_argv(run);
    argv.insert(argv.end(), {"--shard", "auto", "--out", root.string(), "--resume"});
    for (const int id : {1, 3}) {
        const auto task = run_process(argv, slurm_task(id));
        ASSERT_EQ(task.exit_code, 0) << task.err;
        EXPECT_THAT(task.err, HasSubstr("from Slurm job array (SLURM_ARRAY_TASK_ID=" + std::to_string(id)));
    }
    const fs::path store = root / "shard-2-of-3" / "run.sqlite";
    const auto child = start_process(argv, slurm_task(2));
    std::size_t stored = 0;
    for (int poll = 0; poll < 10000 && stored < 2; ++poll) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        try {
            stored = fs::exists(store) ? dermlens::eval::RunStore::open(store).size() : 0;
        } catch (const std::exception &) {
            stored = 0;  // created but not yet initialised
        }
    }
    ::kill(child.pid, SIGKILL);
    const ProcessResult killed = wait_process(child);
    ASSERT_EQ(killed.exit_code, -1) << "the task ended before it was killed: " << killed.err;
    const std::size_t before = dermlens::eval::RunStore::open(store).size();
    ASSERT_GE(before, 2u);

    const auto early = merge(root);
    EXPECT_EQ(early.exit_code, 2) << early.err;
    EXPECT_THAT(early.err, HasSubstr("shard-2-of-3 is unfinished: " + std::to_string(before) + " of its"));
    EXPECT_FALSE(fs::exists(root / "run.sqlite"));

    // While a process writes the folder, another one is refused at once, naming the folder.
    {
        const auto held = dermlens::FileLock::try_acquire(dermlens::eval::RunStore::lock_file(store));
        ASSERT_TRUE(held.has_value());
        const auto start = std::chrono::steady_clock::now();
        const auto second = run_process(argv, slurm_task(2));
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
        EXPECT_EQ(second.exit_code, 2) << second.err;
        EXPECT_THAT(second.err, HasSubstr("run folder '" + fs::absolute(store.parent_path()).string() +
                                          "' is being written by another process"));
    }

    const auto rerun = run_process(argv, slurm_task(2));  // the array task resubmitted: the same command
    ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
    EXPECT_THAT(rerun.err, HasSubstr(std::to_string(before) + " stored before, "));
    const auto merged = merge(root);
    ASSERT_EQ(merged.exit_code, 0) << merged.err;
    expect_same_run(root, reference(run));
}

TEST_F(CliEvalCluster, ShardsOfAnotherRunInTheRootAreRefusedNamingTheSetting) {
    const fs::path root = dir() / "mismatched";
    for (const auto & [id, seeds] : std::vector<std::pair<int, std::string>>{{1, "1"}, {2, "1"}, {3, "2"}}) {
        std::vector<std::string> argv = eval_argv({"--seeds", seeds, "--limit", "3"});
        argv.insert(argv.end(), {"--shard", "auto", "--out", root.string()});
        ASSERT_EQ(run_process(argv, slurm_task(id)).exit_code, 0);
    }
    const auto merged = merge(root);
    EXPECT_EQ(merged.exit_code, 2);
    EXPECT_THAT(merged.err, HasSubstr("setting 'seeds' is 1 in the first and 2 in the second"));
    EXPECT_THAT(merged.err, HasSubstr("shard-3-of-3"));
    EXPECT_FALSE(fs::exists(root / "run.sqlite"));

    const auto half_set = run_process(eval_argv({"--shard", "auto", "--out", (dir() / "half").string()}),
                                      {{"OMPI_COMM_WORLD_RANK", "1"}});
    EXPECT_EQ(half_set.exit_code, 2);
    EXPECT_THAT(half_set.err, HasSubstr("Open MPI: OMPI_COMM_WORLD_RANK=1 is set but OMPI_COMM_WORLD_SIZE is not"));
    EXPECT_FALSE(fs::exists(dir() / "half"));
}

// Rows of the cache: (image, encoder-mean, projected-mean, embeddings) in image order.
std::vector<std::vector<std::string>> cache_rows(const fs::path & cache) {
    sqlite3 * db = nullptr;
    std::vector<std::vector<std::string>> rows;
    EXPECT_EQ(sqlite3_open_v2(cache.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt * stmt = nullptr;
    const char * sql =
        "SELECT image_sha256, encoder_mean, projected_mean, embeddings FROM encodings "
        "JOIN image_embeddings ON image_embeddings.encoding_id = encodings.id ORDER BY image_sha256";
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        std::vector<std::string> row;
        for (int column = 0; column < 4; ++column) {
            const auto * bytes = static_cast<const char *>(sqlite3_column_blob(stmt, column));
            row.emplace_back(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)));
        }
        rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rows;
}

std::string query_text(const fs::path & cache, const char * sql) {
    sqlite3 * db = nullptr;
    std::string text;
    sqlite3_open_v2(cache.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt * stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
        text = reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return text;
}

TEST_F(CliEvalCluster, ConcurrentEmbedsIntoOneCacheStoreEveryImageOnceAsOneProcessWould) {
    TempDir work("cluster_cache");
    std::vector<fs::path> images;
    for (const char * label : {"melanoma", "nevus", "basal_cell_carcinoma", "dermatofibroma"}) {
        std::vector<fs::path> files;
        for (const auto & entry : fs::directory_iterator(kIsic / label)) {
            files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        images.insert(images.end(), files.begin(), files.begin() + 2);
    }
    const auto manifest = [&](const std::string & name, std::size_t first, std::size_t count) {
        std::string text = "image,label\n";
        for (std::size_t i = 0; i < count; ++i) {
            const fs::path & image = images[(first + i) % images.size()];
            text += image.string() + "," + image.parent_path().filename().string() + "\n";
        }
        dermlens::test::write_file(work / name, text);
        return work / name;
    };
    const auto embed_argv = [&](const fs::path & csv, const fs::path & cache) {
        return std::vector<std::string>{DERMLENS_CLI, "embed",          "--manifest", csv.string(),
                                        "--model",    gemma3_.model.string(), "--mmproj", gemma3_.mmproj.string(),
                                        "--cache",    cache.string(),   "--threads",  "1"};
    };
    // Five processes at once on a cache that does not exist yet, each image in two or three manifests.
    const fs::path shared = work / "shared" / "embeddings.sqlite";
    std::vector<dermlens::test::StartedProcess> started;
    for (std::size_t p = 0; p < 5; ++p) {
        started.push_back(start_process(embed_argv(manifest("part" + std::to_string(p) + ".csv", 2 * p, 4), shared)));
    }
    for (const auto & process : started) {
        const ProcessResult result = wait_process(process);
        EXPECT_EQ(result.exit_code, 0) << result.err;
        EXPECT_THAT(result.out, HasSubstr("embed: 4 images: "));
    }
    const fs::path all = manifest("all.csv", 0, images.size());
    const fs::path alone = work / "alone.sqlite";
    ASSERT_EQ(run_process(embed_argv(all, alone)).exit_code, 0);

    EXPECT_EQ(query_text(shared, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(query_text(shared, "SELECT COUNT(*) FROM encodings"), std::to_string(images.size()));
    EXPECT_EQ(query_text(shared, "SELECT COUNT(DISTINCT image_sha256) FROM encodings"), std::to_string(images.size()));
    EXPECT_EQ(query_text(shared, "SELECT COUNT(*) FROM image_embeddings"), std::to_string(images.size()));
    EXPECT_EQ(cache_rows(shared), cache_rows(alone));  // byte for byte what one process stores
    // Readable through dermlens: every image served from the shared cache, none encoded again.
    const fs::path exported = work / "features.csv";
    auto argv = embed_argv(all, shared);
    argv.insert(argv.end(), {"--export", exported.string()});
    const auto reread = run_process(argv);
    ASSERT_EQ(reread.exit_code, 0) << reread.err;
    EXPECT_THAT(reread.out, HasSubstr(fmt::format("embed: {} images: 0 encoded, {} cached, 0 failed", images.size(),
                                                  images.size())));
    EXPECT_EQ(dermlens::vision::read_feature_table(exported).size(), images.size());
}

}  // namespace
