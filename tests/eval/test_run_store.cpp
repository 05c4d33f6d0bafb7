// The evaluation run store: round trip in plan order, errors kept with their sample, refusal of
// duplicates, of foreign or newer files and of a resume with other settings; samples survive a
// SIGKILL mid-write (a forked writer killed at several moments); shards; merging shard stores;
// the run-folder lock (a second writer refused at once, released by the kernel on SIGKILL); the
// recorded plan; finding and checking a root's shard-i-of-n folders.
#include "dermlens/error.h"
#include "eval/run_store.h"
#include "eval/shard_runs.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

namespace fs = std::filesystem;
using dermlens::ErrorKind;
using dermlens::eval::in_shard;
using dermlens::eval::merge_stores;
using dermlens::eval::parse_shard;
using dermlens::eval::RunStore;
using dermlens::eval::Shard;
using dermlens::eval::StoredSample;
using dermlens::test::expect_error;
using dermlens::test::TempDir;
using dermlens::test::write_file;
using nlohmann::ordered_json;
using testing::ElementsAre;

const ordered_json kSettings = {{"protocol", "paper000-ablation"}, {"model", "tiny.gguf"}, {"seeds", {0, 1, 2}}};

// The sample a run plans at `order`, with a record large enough to span several database pages.
StoredSample planned(std::size_t order, std::size_t text_size = 64) {
    StoredSample sample;
    sample.key = "seed=0|image=" + std::to_string(order) + ".jpg";
    sample.order = order;
    std::string raw_text(text_size, ' ');
    for (std::size_t i = 0; i < raw_text.size(); ++i) {
        raw_text[i] = static_cast<char>('a' + (i * 7 + order) % 26);
    }
    sample.record = {{"image", std::to_string(order) + ".jpg"},
                     {"label", "melanoma"},
                     {"prediction", order % 2 == 0 ? "melanoma" : "nevus"},
                     {"probabilities", {{"melanoma", 0.75}, {"nevus", 0.25}}},
                     {"raw_text", raw_text},
                     {"timings", {{"total_ms", 12.5 + static_cast<double>(order)}}}};
    return sample;
}

std::vector<std::string> keys_of(const std::vector<StoredSample> & samples) {
    std::vector<std::string> keys;
    for (const auto & sample : samples) {
        keys.push_back(sample.key);
    }
    return keys;
}

void expect_same_samples(const std::vector<StoredSample> & actual, const std::vector<StoredSample> & expected) {
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        EXPECT_EQ(actual[i].key, expected[i].key);
        EXPECT_EQ(actual[i].order, expected[i].order);
        EXPECT_EQ(actual[i].record, expected[i].record) << actual[i].key;
        EXPECT_EQ(actual[i].error, expected[i].error) << actual[i].key;
    }
}

void run_sql(const fs::path & file, const char * sql) {
    sqlite3 * db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
}

std::string query_text(const fs::path & file, const char * sql) {
    sqlite3 * db = nullptr;
    std::string text;
    if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt * stmt = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
            text = reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0));
        }
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return text;
}

TEST(RunStore, RoundTripsSamplesInPlanOrderWithTheirErrors) {
    TempDir dir("run_store");
    const fs::path file = dir / "run" / "results.sqlite";
    StoredSample failed;
    failed.key = "seed=0|image=broken.jpg";
    failed.order = 1;
    failed.record = {{"image", "broken.jpg"}, {"label", "nevus"}};
    failed.error = ordered_json{{"kind", "invalid_input"}, {"message", "image 'broken.jpg': truncated JPEG data"}};
    // Same order, different keys: the key breaks the tie.
    StoredSample twin = planned(2);
    twin.key = "seed=0|image=2a.jpg";
    {
        RunStore store = RunStore::create(file, kSettings);
        EXPECT_EQ(store.size(), 0u);
        store.add(planned(3));
        store.add(twin);
        store.add(planned(0));
        store.add(failed);
        store.add(planned(2));
        EXPECT_EQ(store.size(), 5u);
        EXPECT_TRUE(store.contains(failed.key));
        EXPECT_FALSE(store.contains("seed=0|image=9.jpg"));
    }
    const std::vector<StoredSample> expected = {planned(0), failed, planned(2), twin, planned(3)};
    EXPECT_THAT(keys_of(expected), ElementsAre("seed=0|image=0.jpg", "seed=0|image=broken.jpg", "seed=0|image=2.jpg",
                                               "seed=0|image=2a.jpg", "seed=0|image=3.jpg"));
    const RunStore reopened = RunStore::open(file);
    EXPECT_EQ(reopened.settings(), kSettings);
    EXPECT_EQ(reopened.size(), 5u);
    expect_same_samples(reopened.samples(), expected);
    // The record keeps its key order (reports print it as the protocol wrote it).
    EXPECT_EQ(reopened.samples().front().record.begin().key(), "image");
    expect_same_samples(RunStore::resume(file, kSettings).samples(), expected);
}

TEST(RunStore, MarksTheFileAndWritesDurably) {
    TempDir dir("run_store");
    const fs::path file = dir / "results.sqlite";
    { RunStore store = RunStore::create(file, kSettings); }
    EXPECT_EQ(query_text(file, "PRAGMA application_id"), std::to_string(0x444C5253));
    EXPECT_EQ(query_text(file, "PRAGMA user_version"), std::to_string(RunStore::kSchemaVersion));
    EXPECT_EQ(query_text(file, "PRAGMA journal_mode"), "wal");
}

TEST(RunStore, IsAMoveOnlyOwnerOfItsDatabase) {
    static_assert(!std::is_copy_constructible_v<RunStore> && !std::is_copy_assignable_v<RunStore>);
    static_assert(std::is_nothrow_move_constructible_v<RunStore> && std::is_nothrow_move_assignable_v<RunStore>);
    TempDir dir("run_store");
    RunStore first = RunStore::create(dir / "a.sqlite", kSettings);
    first.add(planned(0));
    RunStore moved = std::move(first);
    moved.add(planned(1));
    RunStore other = RunStore::create(dir / "b.sqlite", kSettings);
    other = std::move(moved);
    EXPECT_EQ(other.size(), 2u);
    EXPECT_EQ(other.path(), dir / "a.sqlite");
}

TEST(RunStore, ADuplicateKeyIsRefusedAndTheFirstRowKept) {
    TempDir dir("run_store");
    RunStore store = RunStore::create(dir / "results.sqlite", kSettings);
    store.add(planned(0));
    StoredSample again = planned(0);
    again.order = 7;
    again.record["prediction"] = "basal cell carcinoma";
    expect_error([&] { store.add(again); }, ErrorKind::InvalidArgument,
                 {"results.sqlite", planned(0).key, "already stored"});
    EXPECT_EQ(store.size(), 1u);
    expect_same_samples(store.samples(), {planned(0)});
}

TEST(RunStore, RefusesSamplesItCannotStoreFaithfully) {
    TempDir dir("run_store");
    RunStore store = RunStore::create(dir / "results.sqlite", kSettings);
    StoredSample unnamed = planned(0);
    unnamed.key.clear();
    expect_error([&] { store.add(unnamed); }, ErrorKind::InvalidArgument, {"results.sqlite", "key is empty"});
    StoredSample bare_error = planned(0);
    bare_error.error = "timeout";
    expect_error([&] { store.add(bare_error); }, ErrorKind::InvalidArgument, {"error is not a JSON object"});
    EXPECT_EQ(store.size(), 0u);

    RunStore reader = RunStore::open(dir / "results.sqlite");
    expect_error([&] { reader.add(planned(0)); }, ErrorKind::InvalidArgument,
                 {"results.sqlite", "read-only"});
}

TEST(RunStore, KeepsRawTextThatIsNotValidUtf8) {
    TempDir dir("run_store");
    const fs::path file = dir / "results.sqlite";
    StoredSample cut = planned(0);
    cut.record["raw_text"] = std::string("melan\xc3", 6);  // a model's output cut mid-character
    RunStore::create(file, kSettings).add(cut);
    const auto samples = RunStore::open(file).samples();
    ASSERT_EQ(samples.size(), 1u);
    EXPECT_EQ(samples[0].record["raw_text"], "melan\xef\xbf\xbd");
}

TEST(RunStore, CreateRefusesAnExistingFile) {
    TempDir dir("run_store");
    const fs::path file = dir / "results.sqlite";
    RunStore::create(file, kSettings).add(planned(0));
    expect_error([&] { RunStore::create(file, kSettings); }, ErrorKind::InvalidArgument,
                 {"results.sqlite", "already exists", "resume that run"});
    EXPECT_EQ(RunStore::open(file).size(), 1u);
    expect_error([&] { RunStore::create(dir / "other.sqlite", ordered_json::array({1, 2})); },
                 ErrorKind::InvalidArgument, {"other.sqlite", "settings must be a JSON object"});
}

TEST(RunStore, ResumeWithOtherSettingsNamesTheSetting) {
    TempDir dir("run_store");
    const fs::path file = dir / "results.sqlite";
    RunStore::create(file, kSettings).add(planned(0));

    ordered_json other_model = kSettings;
    other_model["model"] = "big.gguf";
    expect_error([&] { RunStore::resume(file, other_model); }, ErrorKind::InvalidArgument,
                 {"results.sqlite", "'model'", "\"tiny.gguf\"", "\"big.gguf\""});
    ordered_json without_seeds = kSettings;
    without_seeds.erase("seeds");
    expect_error([&] { RunStore::resume(file, without_seeds); }, ErrorKind::InvalidArgument,
                 {"'seeds'", "[0,1,2]", "(absent)"});
    ordered_json with_limit = kSettings;
    with_limit["limit"] = 10;
    expect_error([&] { RunStore::resume(file, with_limit); }, ErrorKind::InvalidArgument, {"'limit'", "(absent)", "10"});

    // The same settings written in another key order are the same settings.
    const ordered_json reordered = {{"seeds", {0, 1, 2}}, {"model", "tiny.gguf"}, {"protocol", "paper000-ablation"}};
    RunStore resumed = RunStore::resume(file, reordered);
    resumed.add(planned(1));
    EXPECT_EQ(resumed.size(), 2u);
}

TEST(RunStore, FilesThatAreNotARunStoreAreNamedWithTheReason) {
    TempDir dir("run_store");
    const auto expect_input_error = [](const std::function<void()> & action, const std::vector<std::string> & needles) {
        expect_error(action, ErrorKind::InvalidInput, needles);
    };
    expect_input_error([&] { RunStore::resume(dir / "absent.sqlite", kSettings); }, {"absent.sqlite", "does not exist"});
    expect_input_error([&] { RunStore::open(dir / "absent.sqlite"); }, {"absent.sqlite", "does not exist"});
    EXPECT_FALSE(fs::exists(dir / "absent.sqlite"));

    write_file(dir / "text.sqlite", "image,label\na.jpg,nevus\n");
    expect_input_error([&] { RunStore::resume(dir / "text.sqlite", kSettings); }, {"text.sqlite", "not an SQLite database"});
    expect_input_error([&] { RunStore::open(dir / "text.sqlite"); }, {"text.sqlite", "not an SQLite database"});

    fs::create_directories(dir / "folder.sqlite");
    expect_input_error([&] { RunStore::resume(dir / "folder.sqlite", kSettings); }, {"folder.sqlite", "not a regular file"});

    // Shaped like the embedding cache: a dermlens database, but not a run store. It is left untouched.
    const fs::path cache = dir / "embeddings.sqlite";
    run_sql(cache, "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);"
                   "CREATE TABLE encodings (id INTEGER PRIMARY KEY, image_sha256 TEXT NOT NULL)");
    expect_input_error([&] { RunStore::resume(cache, kSettings); },
                       {"embeddings.sqlite", "not a dermlens evaluation run store"});
    expect_input_error([&] { RunStore::open(cache); }, {"embeddings.sqlite", "not a dermlens evaluation run store"});
    EXPECT_EQ(query_text(cache, "PRAGMA journal_mode"), "delete");

    const fs::path newer = dir / "newer.sqlite";
    { RunStore store = RunStore::create(newer, kSettings); }
    run_sql(newer, "PRAGMA user_version = 99");
    expect_input_error([&] { RunStore::resume(newer, kSettings); }, {"newer.sqlite", "schema version 99", "newer"});
}

TEST(RunStore, CorruptEntriesAreReportedNotReturned) {
    TempDir dir("run_store");
    const fs::path file = dir / "results.sqlite";
    RunStore::create(file, kSettings).add(planned(0));
    run_sql(file, "UPDATE samples SET record = '{\"image\": ' ");
    expect_error([&] { RunStore::open(file).samples(); }, ErrorKind::InvalidInput,
                 {"results.sqlite", planned(0).key, "not valid JSON"});
}

// A writer process adds the planned samples in order; the test kills it with SIGKILL once the
// store holds `kill_at` samples (it is then somewhere inside a later write or checkpoint).
class KilledWriter {
public:
    static constexpr std::size_t kTotal = 10000;
    static constexpr std::size_t kTextSize = 6000;  // two database pages a sample

    static StoredSample sample(std::size_t order) { return planned(order, kTextSize); }

    static void run_until_killed(const fs::path & file, std::size_t kill_at) {
        const pid_t child = fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            write_all(file);
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (RunStore::open(file).size() < kill_at) {
            int status = 0;
            ASSERT_EQ(waitpid(child, &status, WNOHANG), 0) << "the writer exited early with status " << status;
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the writer made no progress";
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ASSERT_EQ(kill(child, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the writer finished before it was killed";
    }

private:
    // The child: never returns into the test framework.
    [[noreturn]] static void write_all(const fs::path & file) {
        try {
            RunStore store = RunStore::resume(file, kSettings);
            for (std::size_t order = store.size(); order < kTotal; ++order) {
                store.add(sample(order));
            }
        } catch (...) {
            _exit(2);
        }
        _exit(0);
    }
};

// Every stored sample whole, in order 0..n-1 without gaps or duplicates; returns n.
std::size_t expect_intact_prefix(const fs::path & file) {
    // Read-only: the test's own writer may hold the folder (one writer at a time).
    const auto samples = RunStore::open(file).samples();
    std::set<std::string> keys;
    for (std::size_t order = 0; order < samples.size(); ++order) {
        const StoredSample expected = KilledWriter::sample(order);
        EXPECT_EQ(samples[order].order, order);
        EXPECT_EQ(samples[order].key, expected.key);
        EXPECT_EQ(samples[order].record, expected.record) << expected.key;
        EXPECT_FALSE(samples[order].error.has_value());
        keys.insert(samples[order].key);
    }
    EXPECT_EQ(keys.size(), samples.size());
    EXPECT_EQ(query_text(file, "PRAGMA integrity_check"), "ok");
    return samples.size();
}

TEST(RunStore, SamplesSurviveSigkillOfTheWriterAtAnyMoment) {
    TempDir dir("run_store");
    const fs::path file = dir / "results.sqlite";
    { RunStore store = RunStore::create(file, kSettings); }
    std::size_t stored = 0;
    // Kill soon after a start, then later on (past WAL checkpoints, every few hundred samples here).
    for (const std::size_t more : {1, 3, 40, 250, 700}) {
        KilledWriter::run_until_killed(file, stored + more);
        if (HasFatalFailure()) {
            return;
        }
        const std::size_t now = expect_intact_prefix(file);
        EXPECT_GE(now, stored + more);
        stored = now;
    }
    EXPECT_LT(stored, KilledWriter::kTotal);

    RunStore store = RunStore::resume(file, kSettings);
    std::size_t added = 0;
    for (std::size_t order = 0; order < KilledWriter::kTotal; ++order) {
        const StoredSample sample = KilledWriter::sample(order);
        if (!store.contains(sample.key)) {
            store.add(sample);
            ++added;
        }
    }
    EXPECT_EQ(added, KilledWriter::kTotal - stored);
    EXPECT_EQ(store.size(), KilledWriter::kTotal);
    EXPECT_EQ(expect_intact_prefix(file), KilledWriter::kTotal);
}

TEST(Shard, ParsesOneBasedIndexOverCount) {
    const Shard first = parse_shard("1/3");
    EXPECT_EQ(first.index, 0u);
    EXPECT_EQ(first.count, 3u);
    const Shard last = parse_shard("3/3");
    EXPECT_EQ(last.index, 2u);
    EXPECT_EQ(last.count, 3u);
    const Shard whole = parse_shard("1/1");
    EXPECT_EQ(whole.index, 0u);
    EXPECT_EQ(whole.count, 1u);
    EXPECT_EQ(parse_shard("2/3").index, 1u);
    EXPECT_EQ(parse_shard("12/100").index, 11u);
}

TEST(Shard, RefusesWhatIsNotIOverN) {
    for (const std::string text : {"0/3", "4/3", "a/b", "1/0", "0/0", "", "/", "1/", "/3", "3", "1/3/5", " 1/3", "1/3 ",
                                   "+1/3", "-1/3", "1.5/3", "1/99999999999999999999999"}) {
        expect_error([&] { parse_shard(text); }, ErrorKind::InvalidArgument, {"shard '" + text + "'", "1 <= i <= n"});
    }
}

TEST(Shard, ShardsPartitionTheOrders) {
    for (const std::size_t count : {1u, 2u, 3u, 7u}) {
        std::vector<int> owners(100, 0);
        for (std::size_t position = 1; position <= count; ++position) {
            const Shard shard = parse_shard(std::to_string(position) + "/" + std::to_string(count));
            for (std::size_t order = 0; order < owners.size(); ++order) {
                owners[order] += in_shard(shard, order) ? 1 : 0;
            }
        }
        EXPECT_EQ(std::count(owners.begin(), owners.end(), 1), 100) << count << " shards";
    }
    EXPECT_TRUE(in_shard(Shard{}, 41));
    EXPECT_FALSE(in_shard(Shard{0, 0}, 41));  // a zero count matches nothing rather than dividing by zero
}

ordered_json shard_settings(const std::string & shard) {
    ordered_json settings = kSettings;
    settings["shard"] = shard;
    settings["limit"] = 20;
    return settings;
}

// The run's plan of 20 samples, a few of which failed, written whole or split over shards.
std::vector<StoredSample> plan() {
    std::vector<StoredSample> samples;
    for (std::size_t order = 0; order < 20; ++order) {
        samples.push_back(planned(order));
        if (order % 6 == 5) {
            samples.back().error = ordered_json{{"kind", "runtime"}, {"message", "decode failed"}};
        }
    }
    return samples;
}

fs::path write_shard(const TempDir & dir, const std::string & shard_text) {
    const fs::path file = dir / ("shard" + shard_text.substr(0, shard_text.find('/')) + ".sqlite");
    RunStore store = RunStore::create(file, shard_settings(shard_text));
    const Shard shard = parse_shard(shard_text);
    for (const auto & sample : plan()) {
        if (in_shard(shard, sample.order)) {
            store.add(sample);
        }
    }
    return file;
}

TEST(MergeStores, ShardsMergeIntoTheUnshardedRun) {
    TempDir dir("run_store");
    const std::vector<fs::path> shards = {write_shard(dir, "1/2"), write_shard(dir, "2/2")};
    const fs::path merged = dir / "merged" / "results.sqlite";
    EXPECT_EQ(merge_stores(shards, merged, {"shard", "limit"}), 20u);
    const RunStore store = RunStore::open(merged);
    expect_same_samples(store.samples(), plan());
    EXPECT_EQ(store.settings(), kSettings);  // the merged run is no longer a shard
    EXPECT_FALSE(fs::exists(merged.string() + ".partial"));
    EXPECT_EQ(query_text(merged, "PRAGMA integrity_check"), "ok");
    // The merged store resumes like any run with the unsharded settings.
    EXPECT_EQ(RunStore::resume(merged, kSettings).size(), 20u);
}

TEST(MergeStores, AnIdenticalDuplicateIsKeptOnce) {
    TempDir dir("run_store");
    const fs::path first = write_shard(dir, "1/2");
    const fs::path second = write_shard(dir, "2/2");
    {
        // Shard 2 also evaluated order 0, with the same result (a re-run of an overlapping plan).
        RunStore store = RunStore::resume(second, shard_settings("2/2"));
        store.add(plan()[0]);
    }
    EXPECT_EQ(merge_stores({first, second, first}, dir / "merged.sqlite", {"shard", "limit"}), 20u);
    expect_same_samples(RunStore::open(dir / "merged.sqlite").samples(), plan());
}

TEST(MergeStores, AConflictingDuplicateIsRefused) {
    TempDir dir("run_store");
    const fs::path first = write_shard(dir, "1/2");
    const fs::path second = write_shard(dir, "2/2");
    {
        StoredSample changed = plan()[0];
        changed.record["prediction"] = "dermatofibroma";
        RunStore store = RunStore::resume(second, shard_settings("2/2"));
        store.add(changed);
    }
    const fs::path out = dir / "merged.sqlite";
    expect_error([&] { merge_stores({first, second}, out, {"shard", "limit"}); }, ErrorKind::InvalidArgument,
                 {"shard1.sqlite", "shard2.sqlite", plan()[0].key, "different results"});
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out.string() + ".partial"));
}

TEST(MergeStores, StoresOfDifferentRunsAreRefused) {
    TempDir dir("run_store");
    const fs::path first = write_shard(dir, "1/2");
    ordered_json other_run = shard_settings("2/2");
    other_run["model"] = "big.gguf";
    const fs::path second = dir / "other.sqlite";
    RunStore::create(second, other_run).add(planned(1));
    expect_error([&] { merge_stores({first, second}, dir / "merged.sqlite", {"shard", "limit"}); },
                 ErrorKind::InvalidArgument, {"shard1.sqlite", "other.sqlite", "'model'", "tiny.gguf", "big.gguf"});
    EXPECT_FALSE(fs::exists(dir / "merged.sqlite"));
}

TEST(MergeStores, OnlyTheIgnoredKeysMayDiffer) {
    TempDir dir("run_store");
    const std::vector<fs::path> shards = {write_shard(dir, "1/2"), write_shard(dir, "2/2")};
    expect_error([&] { merge_stores(shards, dir / "a.sqlite", {"limit"}); }, ErrorKind::InvalidArgument,
                 {"shard1.sqlite", "shard2.sqlite", "'shard'", "\"1/2\"", "\"2/2\""});
    EXPECT_EQ(merge_stores(shards, dir / "b.sqlite", {"shard"}), 20u);
    ordered_json expected = kSettings;
    expected["limit"] = 20;
    EXPECT_EQ(RunStore::open(dir / "b.sqlite").settings(), expected);
}

TEST(MergeStores, RefusesAnExistingOutputAndNoInputs) {
    TempDir dir("run_store");
    const fs::path shard = write_shard(dir, "1/2");
    expect_error([&] { merge_stores({shard}, shard, {"shard"}); }, ErrorKind::InvalidArgument,
                 {"shard1.sqlite", "already exists"});
    EXPECT_EQ(RunStore::open(shard).size(), 10u);
    expect_error([&] { merge_stores({}, dir / "merged.sqlite", {}); }, ErrorKind::InvalidArgument, {"at least one"});
    expect_error([&] { merge_stores({dir / "absent.sqlite"}, dir / "merged.sqlite", {}); }, ErrorKind::InvalidInput,
                 {"absent.sqlite", "does not exist"});
}


using dermlens::FileLock;
using dermlens::eval::complete_shard_stores;
using dermlens::eval::shard_folder_name;
using dermlens::eval::ShardPlan;

TEST(RunStoreLock, ASecondWriterOfTheFolderIsRefusedNamingItUntilTheFirstCloses) {
    TempDir dir("run_store_lock");
    const fs::path file = dir / "run" / "run.sqlite";
    const std::string folder = fs::absolute(dir / "run").string();
    {
        RunStore first = RunStore::create(file, kSettings);
        first.add(planned(0));
        expect_error([&] { RunStore::resume(file, kSettings); }, ErrorKind::InvalidArgument,
                     {"run folder '" + folder + "'", "being written by another process", "run.sqlite.lock"});
        expect_error([&] { RunStore::refuse_if_locked(file); }, ErrorKind::InvalidArgument, {folder});
        // A reader is no writer: reports and merges read a store that is being written.
        EXPECT_EQ(RunStore::open(file).size(), 1u);
    }
    RunStore::refuse_if_locked(file);  // released with the store
    RunStore again = RunStore::resume(file, kSettings);
    EXPECT_EQ(again.size(), 1u);
}

// The lock is the kernel's: a writer killed with SIGKILL leaves none behind.
TEST(RunStoreLock, AnotherProcessIsRefusedAtOnceAndAKilledWriterLeavesNoLock) {
    TempDir dir("run_store_lock_process");
    const fs::path file = dir / "run.sqlite";
    { RunStore store = RunStore::create(file, kSettings); }
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        RunStore store = RunStore::resume(file, kSettings);
        const char byte = 1;
        if (::write(ready[1], &byte, 1) != 1) {
            ::_exit(1);
        }
        for (;;) {
            ::pause();
        }
    }
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    const auto start = std::chrono::steady_clock::now();
    expect_error([&] { RunStore::resume(file, kSettings); }, ErrorKind::InvalidArgument,
                 {"run folder '" + fs::absolute(dir.path()).string() + "'", "another process"});
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));  // refused, not waiting
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(ready[0]);
    ::close(ready[1]);
    RunStore resumed = RunStore::resume(file, kSettings);
    resumed.add(planned(0));
    EXPECT_EQ(resumed.size(), 1u);
}

TEST(RunStoreLock, AMergeIntoAFolderBeingWrittenIsRefused) {
    TempDir dir("run_store_lock_merge");
    const fs::path shard = write_shard(dir, "1/1");
    const fs::path out = dir / "out" / "run.sqlite";
    fs::create_directories(out.parent_path());
    {
        const auto held = FileLock::try_acquire(RunStore::lock_file(out));
        ASSERT_TRUE(held.has_value());
        expect_error([&] { merge_stores({shard}, out, {}); }, ErrorKind::InvalidArgument,
                     {fs::absolute(out.parent_path()).string(), "being written by another process"});
        EXPECT_FALSE(fs::exists(out));
    }
    EXPECT_EQ(merge_stores({shard}, out, {}), 20u);
}

TEST(RunStorePlan, IsRecordedReplacedOnResumeAndAbsentFromAMergedStore) {
    TempDir dir("run_store_plan");
    const fs::path file = dir / "run.sqlite";
    {
        RunStore store = RunStore::create(file, kSettings);
        EXPECT_FALSE(store.plan().has_value());
        store.record_plan({Shard{1, 3}, 12, 8});
    }
    std::optional<ShardPlan> plan = RunStore::open(file).plan();
    ASSERT_TRUE(plan.has_value());
    EXPECT_EQ(plan->shard.index, 1u);
    EXPECT_EQ(plan->shard.count, 3u);
    EXPECT_EQ(plan->limit, 12u);
    EXPECT_EQ(plan->items, 8u);
    RunStore::resume(file, kSettings).record_plan({Shard{1, 3}, 0, 40});
    EXPECT_EQ(RunStore::open(file).plan()->items, 40u);
    expect_error([&] { RunStore::open(file).record_plan({}); }, ErrorKind::InvalidArgument, {"read-only"});
    EXPECT_EQ(merge_stores({file}, dir / "merged.sqlite", {}), 0u);
    EXPECT_FALSE(RunStore::open(dir / "merged.sqlite").plan().has_value());
}

// ROOT/shard-i-of-n/run.sqlite of the 20-sample plan(), `stored` of each shard's samples (all by default).
void write_shard_folder(const fs::path & root, const Shard & shard, std::size_t limit = 20,
                        std::size_t stored = 1000, const ordered_json & settings = kSettings) {
    RunStore store = RunStore::create(root / shard_folder_name(shard) / "run.sqlite", settings);
    std::size_t items = 0;
    for (const auto & sample : plan()) {
        if (in_shard(shard, sample.order)) {
            if (items++ < stored) {
                store.add(sample);
            }
        }
    }
    store.record_plan({shard, limit, items});
}

TEST(ShardFolders, AWholeFinishedSetIsFoundInShardOrderAndMergesIntoTheUnshardedRun) {
    TempDir dir("shard_folders");
    EXPECT_EQ(shard_folder_name(Shard{1, 3}), "shard-2-of-3");
    for (const std::size_t index : {2u, 0u, 1u}) {
        write_shard_folder(dir.path(), Shard{index, 3});
    }
    fs::create_directories(dir / "logs");  // other folders are left alone
    const auto stores = complete_shard_stores(dir.path());
    ASSERT_EQ(stores.size(), 3u);
    EXPECT_EQ(stores[0], dir / "shard-1-of-3" / "run.sqlite");
    EXPECT_EQ(stores[2], dir / "shard-3-of-3" / "run.sqlite");
    EXPECT_EQ(merge_stores(stores, dir / "run.sqlite", {}), 20u);
    expect_same_samples(RunStore::open(dir / "run.sqlite").samples(), plan());
}

TEST(ShardFolders, AnIncompleteOrMismatchedSetIsRefusedNamingWhatIsWrong) {
    const auto refused = [](const std::function<void(const fs::path &)> & make, std::vector<std::string> needles) {
        TempDir dir("shard_folders_refused");
        make(dir.path());
        needles.insert(needles.begin(), dir.path().string());
        expect_error([&] { complete_shard_stores(dir.path()); }, ErrorKind::InvalidArgument, needles);
    };
    refused([](const fs::path &) {}, {"no shard folders"});
    refused([](const fs::path & root) {
        write_shard_folder(root, {0, 3});
        write_shard_folder(root, {2, 3});
    }, {"incomplete", "shard-2-of-3 missing"});
    refused([](const fs::path & root) {
        write_shard_folder(root, {0, 2});
        write_shard_folder(root, {1, 2});
        write_shard_folder(root, {2, 3});
    }, {"different splits", "shard-3-of-3", "2 of 2"});
    refused([](const fs::path & root) {
        write_shard_folder(root, {0, 2});
        fs::create_directories(root / "shard-2-of-2");
    }, {"shard-2-of-2 holds no run"});
    refused([](const fs::path & root) {
        write_shard_folder(root, {0, 2});
        write_shard_folder(root, {1, 2});
        fs::create_directories(root / "shard-3-of-2");
    }, {"shard-3-of-2 is no shard of 2"});
    refused([](const fs::path & root) {
        write_shard_folder(root, {0, 2});
        write_shard_folder(root, {1, 2}, 20, 4);
    }, {"shard-2-of-2 is unfinished", "4 of its 10 samples"});
    refused([](const fs::path & root) {
        write_shard_folder(root, {0, 2}, 12);
        write_shard_folder(root, {1, 2}, 0);
    }, {"different images", "shard-1-of-2 the first 12", "shard-2-of-2 the first 0"});
    refused([](const fs::path & root) {
        write_shard_folder(root, {0, 2});
        write_shard_folder(root / "elsewhere", {0, 2});
        fs::rename(root / "elsewhere" / "shard-1-of-2", root / "shard-2-of-2");
    }, {"shard-2-of-2 holds the run of shard-1-of-2"});

    TempDir dir("shard_folders_writing");
    write_shard_folder(dir.path(), {0, 2});
    write_shard_folder(dir.path(), {1, 2});
    const RunStore writer = RunStore::resume(dir / "shard-2-of-2" / "run.sqlite", kSettings);
    expect_error([&] { complete_shard_stores(dir.path()); }, ErrorKind::InvalidArgument,
                 {"shard-2-of-2 is still being written"});
}

TEST(ShardFolders, AProcessOfAnotherSplitIsRefusedBeforeItStartsOne) {
    TempDir dir("shard_folders_split");
    using dermlens::eval::refuse_other_split;
    refuse_other_split(dir / "absent", Shard{0, 1}, "none");  // a new root
    write_shard_folder(dir.path(), {0, 3});
    write_shard_folder(dir.path(), {2, 3});
    refuse_other_split(dir.path(), Shard{1, 3}, "Open MPI");  // the missing one of the same split
    expect_error([&] { refuse_other_split(dir.path(), Shard{0, 1}, "Slurm job array: SLURM_ARRAY_TASK_COUNT=1"); },
                 ErrorKind::InvalidArgument,
                 {dir.path().string(), "3-way split (shard-1-of-3, shard-3-of-3)", "shard 1 of 1",
                  "SLURM_ARRAY_TASK_COUNT=1", "resubmit the whole array"});
}

TEST(ShardFolders, ShardsOfDifferentSettingsAreRefusedByTheMergeNamingTheSetting) {
    TempDir dir("shard_folders_settings");
    ordered_json other_model = kSettings;
    other_model["model"] = "other.gguf";
    write_shard_folder(dir.path(), {0, 2});
    write_shard_folder(dir.path(), {1, 2}, 20, 1000, other_model);
    const auto stores = complete_shard_stores(dir.path());
    expect_error([&] { merge_stores(stores, dir / "run.sqlite", {}); }, ErrorKind::InvalidArgument,
                 {"shard-1-of-2", "shard-2-of-2", "setting 'model'", "tiny.gguf", "other.gguf"});
}

}  // namespace
