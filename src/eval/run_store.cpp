#include "eval/run_store.h"

#include "common/sqlite_db.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <system_error>

namespace dermlens::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using sqlite::Statement;
using sqlite::Transaction;

// "DLRS" (dermlens run store) in the header's application id: the store's magic marker.
constexpr std::int32_t kApplicationId = 0x444C5253;

constexpr const char * kSchema = R"sql(
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE samples (
    key        TEXT    PRIMARY KEY,
    item_order INTEGER NOT NULL,
    record     TEXT    NOT NULL,
    error      TEXT
);
)sql";

constexpr sqlite::ErrorWording kErrorWording = {
    .owner = "run store",
    .cannot_open = "cannot open it",
    .corrupt_advice = "",
};

std::int64_t pragma_integer(const sqlite::Database & db, const char * pragma) {
    Statement query(db, fmt::format("PRAGMA {}", pragma).c_str());
    return query.step() ? query.integer(0) : 0;
}

// Raw model output cut mid-character is not valid UTF-8: store it with U+FFFD rather than lose the sample.
std::string to_text(const ordered_json & value) {
    return value.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

ordered_json parse_stored(const std::string & text, const fs::path & file, const std::string & what) {
    try {
        return ordered_json::parse(text);
    } catch (const ordered_json::exception & e) {  // parse_error, or out_of_range.406 for a number beyond double
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("run store '{}': {} is not valid JSON (corrupt entry: {})", file.string(), what, e.what()));
    }
}

void require_object(const ordered_json & settings, const fs::path & file) {
    if (!settings.is_object()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("run store '{}': settings must be a JSON object, not {}", file.string(), settings.type_name()));
    }
}

bool is_ignored(const std::string & key, const std::vector<std::string> & ignored_keys) {
    return std::find(ignored_keys.begin(), ignored_keys.end(), key) != ignored_keys.end();
}

// Compared as plain (key-sorted) JSON so that the order of keys inside a value does not matter.
bool same_value(const ordered_json & a, const ordered_json & b) {
    return nlohmann::json(a) == nlohmann::json(b);
}

// The first top-level setting (in `a`'s order, then `b`'s) whose value differs, ignoring `ignored_keys`.
std::optional<std::string> first_differing_key(const ordered_json & a, const ordered_json & b,
                                               const std::vector<std::string> & ignored_keys) {
    for (const auto * settings : {&a, &b}) {
        for (const auto & [key, value] : settings->items()) {
            if (is_ignored(key, ignored_keys)) {
                continue;
            }
            if (!a.contains(key) || !b.contains(key) || !same_value(a.at(key), b.at(key))) {
                return key;
            }
        }
    }
    return std::nullopt;
}

std::string value_or_absent(const ordered_json & settings, const std::string & key) {
    return settings.contains(key) ? to_text(settings.at(key)) : "(absent)";
}

bool same_sample(const StoredSample & a, const StoredSample & b) {
    const bool same_error = a.error.has_value() == b.error.has_value() && (!a.error || same_value(*a.error, *b.error));
    return a.order == b.order && same_value(a.record, b.record) && same_error;
}

// A store and the files SQLite keeps beside it in WAL mode.
void remove_store_files(const fs::path & file) {
    std::error_code ignored;
    for (const char * suffix : {"", "-wal", "-shm"}) {
        fs::remove(fs::path(file.string() + suffix), ignored);
    }
}

void create_parent_folder(const fs::path & file) {
    std::error_code ec;
    if (file.has_parent_path()) {
        fs::create_directories(file.parent_path(), ec);
        if (ec) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("run store '{}': cannot create its folder: {}", file.string(), ec.message()));
        }
    }
}

// The lock of the run folder holding `file`, or Error(InvalidArgument) naming the folder when
// another process (or another RunStore of this one) writes it.
FileLock lock_run_folder(const fs::path & file) {
    const fs::path lock_path = RunStore::lock_file(file);
    std::optional<FileLock> lock = FileLock::try_acquire(lock_path);
    if (!lock) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("run folder '{}' is being written by another process (it holds the lock '{}'); "
                                "wait for it to end or choose another folder",
                                fs::absolute(file).parent_path().string(), lock_path.filename().string()));
    }
    return std::move(*lock);
}

}  // namespace

Shard parse_shard(const std::string & text) {
    const auto invalid = [&] {
        return Error(ErrorKind::InvalidArgument,
                     fmt::format("shard '{}': expected i/n with 1 <= i <= n, e.g. 2/4 for the second of four", text));
    };
    const auto slash = text.find('/');
    if (slash == std::string::npos) {
        throw invalid();
    }
    // from_chars takes no sign, space or other decoration; both numbers must fill their part.
    const auto number = [&](std::size_t begin, std::size_t end) {
        std::size_t value = 0;
        const auto [stop, ec] = std::from_chars(text.data() + begin, text.data() + end, value);
        if (begin == end || ec != std::errc() || stop != text.data() + end) {
            throw invalid();
        }
        return value;
    };
    const std::size_t position = number(0, slash);
    const std::size_t count = number(slash + 1, text.size());
    if (position < 1 || position > count) {
        throw invalid();
    }
    return Shard{position - 1, count};
}

bool in_shard(const Shard & shard, std::size_t order) noexcept {
    return shard.count != 0 && order % shard.count == shard.index;
}

RunStore::RunStore(const fs::path & file, Access access, Locking locking)
    : file_(file), writable_(access != Access::ReadOnly) {
    std::error_code ec;
    if (access == Access::Create) {
        create_parent_folder(file_);
        // Locked before the file is looked at: a second writer learns that the folder is busy,
        // not what the first one happens to have written so far.
        if (locking == Locking::Lock) {
            lock_ = lock_run_folder(file_);
        }
        if (fs::exists(fs::symlink_status(file_, ec))) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("run store '{}' already exists; resume that run (RunStore::resume) or "
                                    "choose another file",
                                    file_.string()));
        }
    } else if (!fs::exists(fs::symlink_status(file_, ec))) {
        throw Error(ErrorKind::InvalidInput, fmt::format("run store '{}' does not exist", file_.string()));
    } else if (!fs::is_regular_file(file_, ec)) {
        throw Error(ErrorKind::InvalidInput, fmt::format("run store '{}': not a regular file", file_.string()));
    } else if (access == Access::ReadWrite && locking == Locking::Lock) {
        lock_ = lock_run_folder(file_);
    }
    const sqlite::OpenMode mode = access == Access::Create     ? sqlite::OpenMode::ReadWriteCreate
                                  : access == Access::ReadOnly ? sqlite::OpenMode::ReadOnly
                                                               : sqlite::OpenMode::ReadWrite;
    db_ = std::make_unique<sqlite::Database>(file_, mode, kErrorWording);
}

fs::path RunStore::lock_file(const fs::path & file) {
    return fs::path(file.string() + ".lock");
}

void RunStore::refuse_if_locked(const fs::path & file) {
    if (fs::exists(lock_file(file))) {
        lock_run_folder(file);  // released again at once
    }
}

RunStore::~RunStore() = default;
RunStore::RunStore(RunStore &&) noexcept = default;
RunStore & RunStore::operator=(RunStore &&) noexcept = default;

// WAL + synchronous=FULL: every commit is fsynced, so a committed sample survives a power loss.
void RunStore::make_durable() {
    Statement(*db_, "PRAGMA journal_mode = WAL").step();
    db_->exec("PRAGMA synchronous = FULL");
}

void RunStore::initialise(const ordered_json & settings) {
    make_durable();
    Transaction transaction(*db_);
    db_->exec(fmt::format("PRAGMA application_id = {}", kApplicationId).c_str());
    db_->exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion).c_str());
    db_->exec(kSchema);
    Statement(*db_, "INSERT INTO meta (name, value) VALUES ('settings', ?1)").bind(1, to_text(settings)).step();
    transaction.commit();
    settings_ = settings;
}

void RunStore::check_format_and_load_settings() {
    // Reading the header first: a file that is not a database fails here, before anything is written to it.
    const std::int64_t application_id = pragma_integer(*db_, "application_id");
    if (application_id != kApplicationId) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("run store '{}': an SQLite database but not a dermlens evaluation run store "
                                "(application id {:#x})",
                                file_.string(), application_id));
    }
    const std::int64_t version = pragma_integer(*db_, "user_version");
    if (version != kSchemaVersion) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("run store '{}': schema version {} is {} this dermlens reads ({})", file_.string(),
                                version, version > kSchemaVersion ? "newer than the one" : "not the one",
                                kSchemaVersion));
    }
    // A damaged file can still answer queries, inconsistently: COUNT(*) read from one b-tree and the
    // rows from another disagreed (found by fuzz_run_store), so a resume would skip or redo samples.
    Statement check(*db_, "PRAGMA quick_check(1)");
    if (check.step() && check.text(0) != "ok") {
        throw Error(ErrorKind::InvalidInput, fmt::format("run store '{}': the SQLite file is damaged ({})",
                                                         file_.string(), check.text(0)));
    }
    Statement query(*db_, "SELECT value FROM meta WHERE name = 'settings'");
    if (!query.step()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("run store '{}': no settings recorded (corrupt store)", file_.string()));
    }
    settings_ = parse_stored(query.text(0), file_, "the settings");
}

RunStore RunStore::create(const fs::path & file, const ordered_json & settings) {
    require_object(settings, file);
    RunStore store(file, Access::Create);
    store.initialise(settings);
    return store;
}

RunStore RunStore::resume(const fs::path & file, const ordered_json & settings) {
    require_object(settings, file);
    RunStore store(file, Access::ReadWrite);
    store.check_format_and_load_settings();
    if (const auto key = first_differing_key(store.settings_, settings, {})) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("run store '{}' was started with other settings: '{}' was {}, is now {}; resume with "
                                "the same settings or choose another output folder",
                                file.string(), *key, value_or_absent(store.settings_, *key),
                                value_or_absent(settings, *key)));
    }
    store.make_durable();
    return store;
}

RunStore RunStore::open(const fs::path & file) {
    RunStore store(file, Access::ReadOnly);
    store.check_format_and_load_settings();
    return store;
}

bool RunStore::contains(const std::string & key) const {
    Statement query(*db_, "SELECT 1 FROM samples WHERE key = ?1");
    query.bind(1, key);
    return query.step();
}

std::size_t RunStore::size() const {
    Statement query(*db_, "SELECT COUNT(*) FROM samples");
    query.step();
    return static_cast<std::size_t>(query.integer(0));
}

void RunStore::add(const StoredSample & sample) {
    const auto refuse = [&](const std::string & reason) {
        return Error(ErrorKind::InvalidArgument,
                     fmt::format("run store '{}': cannot add sample '{}': {}", file_.string(), sample.key, reason));
    };
    if (!writable_) {
        throw refuse("the store was opened read-only");
    }
    if (sample.key.empty()) {
        throw refuse("its key is empty");
    }
    if (sample.order > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())) {
        throw refuse(fmt::format("its order {} is too large", sample.order));
    }
    if (sample.error && !sample.error->is_object()) {
        throw refuse("its error is not a JSON object");
    }
    // One statement, hence one transaction: the sample is either wholly stored or not at all.
    Statement insert(*db_,
                     "INSERT INTO samples (key, item_order, record, error) VALUES (?1, ?2, ?3, ?4) "
                     "ON CONFLICT (key) DO NOTHING");
    insert.bind(1, sample.key).bind(2, static_cast<std::int64_t>(sample.order)).bind(3, to_text(sample.record));
    if (sample.error) {
        insert.bind(4, to_text(*sample.error));
    } else {
        insert.bind_null(4);
    }
    insert.step();
    if (db_->changes() == 0) {
        throw refuse("a sample with this key is already stored");
    }
}

// Many samples in one transaction (a merge), instead of one fsync each.
void RunStore::add_all(const std::vector<StoredSample> & samples) {
    Transaction transaction(*db_);
    for (const auto & sample : samples) {
        add(sample);
    }
    transaction.commit();
}

std::vector<StoredSample> RunStore::samples() const {
    Statement query(*db_, "SELECT key, item_order, record, error FROM samples ORDER BY item_order, key");
    std::vector<StoredSample> samples;
    while (query.step()) {
        StoredSample sample;
        sample.key = query.text(0);
        sample.order = static_cast<std::size_t>(query.integer(1));
        sample.record = parse_stored(query.text(2), file_, fmt::format("the record of sample '{}'", sample.key));
        if (!query.is_null(3)) {
            sample.error = parse_stored(query.text(3), file_, fmt::format("the error of sample '{}'", sample.key));
        }
        samples.push_back(std::move(sample));
    }
    return samples;
}

void RunStore::record_plan(const ShardPlan & plan) {
    if (!writable_) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("run store '{}': cannot record the plan: the store was opened read-only", file_.string()));
    }
    const ordered_json value = {{"shard", {{"index", plan.shard.index + 1}, {"count", plan.shard.count}}},
                                {"limit", plan.limit},
                                {"items", plan.items}};
    Statement(*db_, "INSERT INTO meta (name, value) VALUES ('plan', ?1) ON CONFLICT (name) DO UPDATE SET value = ?1")
        .bind(1, to_text(value))
        .step();
}

std::optional<ShardPlan> RunStore::plan() const {
    Statement query(*db_, "SELECT value FROM meta WHERE name = 'plan'");
    if (!query.step()) {
        return std::nullopt;
    }
    const ordered_json value = parse_stored(query.text(0), file_, "the plan");
    try {
        ShardPlan plan;
        plan.shard.index = value.at("shard").at("index").get<std::size_t>() - 1;
        plan.shard.count = value.at("shard").at("count").get<std::size_t>();
        plan.limit = value.at("limit").get<std::size_t>();
        plan.items = value.at("items").get<std::size_t>();
        return plan;
    } catch (const ordered_json::exception & e) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("run store '{}': the plan is not readable (corrupt entry: {})", file_.string(), e.what()));
    }
}

namespace {

void check_same_run(const std::vector<RunStore> & stores, const std::vector<std::string> & ignored_keys) {
    const RunStore & first = stores.front();
    for (const auto & other : stores) {
        if (const auto key = first_differing_key(first.settings(), other.settings(), ignored_keys)) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("run stores '{}' and '{}' come from different runs: setting '{}' is {} in the "
                                    "first and {} in the second",
                                    first.path().string(), other.path().string(), *key,
                                    value_or_absent(first.settings(), *key), value_or_absent(other.settings(), *key)));
        }
    }
}

// Every key once; a key stored by several shards must hold the same sample in each.
std::vector<StoredSample> union_of_samples(const std::vector<RunStore> & stores) {
    struct Found {
        StoredSample sample;
        const fs::path * file;
    };
    std::map<std::string, Found> by_key;
    for (const auto & store : stores) {
        for (auto & sample : store.samples()) {
            const auto [it, inserted] = by_key.try_emplace(sample.key, Found{sample, &store.path()});
            if (!inserted && !same_sample(it->second.sample, sample)) {
                throw Error(ErrorKind::InvalidArgument,
                            fmt::format("run stores '{}' and '{}' hold different results for sample '{}'",
                                        it->second.file->string(), store.path().string(), sample.key));
            }
        }
    }
    std::vector<StoredSample> samples;
    samples.reserve(by_key.size());
    for (auto & [key, found] : by_key) {
        samples.push_back(std::move(found.sample));
    }
    return samples;
}

ordered_json without_keys(ordered_json settings, const std::vector<std::string> & keys) {
    for (const auto & key : keys) {
        settings.erase(key);
    }
    return settings;
}

}  // namespace

std::size_t merge_stores(const std::vector<fs::path> & inputs, const fs::path & out,
                         const std::vector<std::string> & ignored_keys) {
    if (inputs.empty()) {
        throw Error(ErrorKind::InvalidArgument, "merging run stores needs at least one input store");
    }
    std::error_code ec;
    std::vector<RunStore> stores;
    for (const auto & input : inputs) {
        stores.push_back(RunStore::open(input));
    }
    check_same_run(stores, ignored_keys);
    const std::vector<StoredSample> samples = union_of_samples(stores);

    if (fs::exists(fs::symlink_status(out, ec))) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("run store '{}' already exists; merge into a new file", out.string()));
    }
    // `out`'s lock covers the partial file beside it too: only a merge into `out` writes that.
    create_parent_folder(out);
    const FileLock out_lock = lock_run_folder(out);

    // Written beside `out` and renamed once complete and closed (which folds the WAL into the file).
    const fs::path partial = out.string() + ".partial";
    remove_store_files(partial);
    try {
        RunStore merged(partial, RunStore::Access::Create, RunStore::Locking::AlreadyHeld);
        merged.initialise(without_keys(stores.front().settings(), ignored_keys));
        merged.add_all(samples);
    } catch (...) {
        remove_store_files(partial);
        throw;
    }
    fs::rename(partial, out, ec);
    if (ec) {
        remove_store_files(partial);
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("run store '{}': cannot move the merged store into place: {}", out.string(), ec.message()));
    }
    return samples.size();
}

}  // namespace dermlens::eval
