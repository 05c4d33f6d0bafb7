// The durable result store of an evaluation run: one SQLite file in the run folder that
// receives every evaluated sample as soon as it is produced, so a run killed with `kill -9`
// or by a power loss resumes (`--resume`) without recomputing or duplicating any sample.
//
// Each add() is its own transaction in WAL mode with synchronous=FULL: when it returns the
// sample is on disk, and a crash loses at most the sample being written, never an earlier one.
// The file carries a magic application id and a schema version, so an SQLite file of another
// kind (the embedding cache, say) is refused with a clear message. The run's settings are
// stored with it: a resume with other settings, or a merge of stores of different runs, is
// refused naming the setting that differs.
//
// One writer at a time: create() and resume() hold an exclusive lock on `<store>.lock` beside the
// store (common/file_lock.h) for as long as the RunStore lives, so a second process pointed at the
// same run folder is refused at once instead of failing mid-run; the kernel releases the lock when
// the writer ends, however it ends. Readers (open()) take no lock.
#pragma once

#include "common/file_lock.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::sqlite {
class Database;
}  // namespace dermlens::sqlite

namespace dermlens::eval {

// One evaluated work item as the run recorded it.
struct StoredSample {
    std::string key;                 // unique within a run, e.g. "seed=0|strategy=direct|image=melanoma/a.jpg"
    std::size_t order = 0;           // the item's position in the protocol's plan: outputs are written in this order
    nlohmann::ordered_json record;   // what the protocol produced (prediction, probabilities, raw text, timings)
    std::optional<nlohmann::ordered_json> error;  // {"kind": ..., "message": ...} when the item failed; record then holds what is known (image, label)
};

// Which part of the plan one process evaluates: the items whose order % count == index.
struct Shard {
    std::size_t index = 0;  // 0-based
    std::size_t count = 1;
};

// "i/n" as users write it (1-based, 1 <= i <= n); Error(InvalidArgument) otherwise.
Shard parse_shard(const std::string & text);
bool in_shard(const Shard & shard, std::size_t order) noexcept;

// What one process of a run set out to evaluate, recorded in its store so that a merge can tell a
// finished shard from one still missing samples. Not part of the settings: a resume may change it.
struct ShardPlan {
    Shard shard;
    std::size_t limit = 0;  // the first N test images (0: all)
    std::size_t items = 0;  // the shard's items in the plan: the store is complete when it holds them all
};

class RunStore {
public:
    static constexpr int kSchemaVersion = 1;

    // A new store at `file` (its folder is created). Error(InvalidArgument) when the file exists
    // (the caller says --resume or picks another folder) or `settings` is not a JSON object.
    static RunStore create(const std::filesystem::path & file, const nlohmann::ordered_json & settings);
    // An existing store, for `--resume`. Error(InvalidInput) naming the file when it is missing,
    // not an SQLite database, another program's database or of a newer schema;
    // Error(InvalidArgument) naming the first differing setting (old and new value) when the
    // store was started with other settings.
    static RunStore resume(const std::filesystem::path & file, const nlohmann::ordered_json & settings);
    // Read-only, for reports and merging; the same checks as resume() except the settings.
    static RunStore open(const std::filesystem::path & file);
    // The lock file of the store at `file`: `<file>.lock`.
    static std::filesystem::path lock_file(const std::filesystem::path & file);
    // Error(InvalidArgument) naming the folder when a process writes the store at `file` now: a
    // writer checks before its slow start (hashing the model), create() and resume() lock for real.
    static void refuse_if_locked(const std::filesystem::path & file);

    ~RunStore();
    RunStore(RunStore &&) noexcept;
    RunStore & operator=(RunStore &&) noexcept;
    RunStore(const RunStore &) = delete;
    RunStore & operator=(const RunStore &) = delete;

    const std::filesystem::path & path() const noexcept { return file_; }
    const nlohmann::ordered_json & settings() const noexcept { return settings_; }
    bool contains(const std::string & key) const;
    std::size_t size() const;

    // Durable when it returns. Error(InvalidArgument) for a key already stored (the stored row
    // is kept), an empty key, an error that is not a JSON object, or a store opened read-only.
    // Strings that are not valid UTF-8 (raw model output cut mid-character) are stored with
    // U+FFFD in place of the invalid bytes rather than refused.
    void add(const StoredSample & sample);
    // Every sample, ordered by order, then key.
    std::vector<StoredSample> samples() const;

    // Records (replaces) what this process sets out to evaluate; durable when it returns.
    void record_plan(const ShardPlan & plan);
    // The plan last recorded; nullopt for a store that records none (a merged one, an older one).
    std::optional<ShardPlan> plan() const;

private:
    enum class Access { Create, ReadWrite, ReadOnly };
    enum class Locking { Lock, AlreadyHeld };

    RunStore(const std::filesystem::path & file, Access access, Locking locking = Locking::Lock);
    void lock();
    void initialise(const nlohmann::ordered_json & settings);
    void check_format_and_load_settings();
    void make_durable();
    void add_all(const std::vector<StoredSample> & samples);

    std::filesystem::path file_;
    std::optional<FileLock> lock_;  // declared before db_: released after the database is closed
    std::unique_ptr<sqlite::Database> db_;
    nlohmann::ordered_json settings_;
    bool writable_ = false;

    friend std::size_t merge_stores(const std::vector<std::filesystem::path> &, const std::filesystem::path &,
                                    const std::vector<std::string> &);
};

// Combines the stores of the shards of one run into a new store at `out` and returns its number
// of samples. The inputs' settings must agree once the keys in `ignored_keys` (e.g. "shard",
// "limit") are left out, and the merged store keeps the settings without them. A key present in
// several inputs with an identical record and error is kept once; with different ones it is an
// error. All failures are Error(InvalidArgument) naming the files and the key; `out` is written
// in one transaction to a temporary file renamed into place, so it is never left half-merged.
// `out`'s lock is held throughout: a writer of `out`'s folder and the merge exclude each other.
std::size_t merge_stores(const std::vector<std::filesystem::path> & inputs, const std::filesystem::path & out,
                         const std::vector<std::string> & ignored_keys);

}  // namespace dermlens::eval
