#include "common/sqlite_db.h"

#include "dermlens/error.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <thread>

namespace dermlens::sqlite {
namespace {

namespace fs = std::filesystem;

// Float vectors are raw float32 blobs in the host's byte order, which must be little-endian so
// that database files move between machines.
static_assert(std::endian::native == std::endian::little, "dermlens stores float vectors as little-endian float32");

int open_flags(OpenMode mode) {
    switch (mode) {
    case OpenMode::ReadOnly:
        return SQLITE_OPEN_READONLY;
    case OpenMode::ReadWrite:
        return SQLITE_OPEN_READWRITE;
    case OpenMode::ReadWriteCreate:
        return SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    }
    return SQLITE_OPEN_READONLY;
}

bool is_busy(int rc) {
    return (rc & 0xff) == SQLITE_BUSY;
}

// Runs `attempt` until it is not busy, or, outside a transaction only (inside one SQLite wants a
// rollback, not a retry), until kBusyDeadlineMs has passed. Each attempt has already waited the
// busy timeout, except where SQLite answers busy at once (recovery of another process's WAL, a
// journal-mode switch): hence the short growing pause.
template <typename Attempt>
int retry_while_busy(sqlite3 * db, Attempt attempt) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(kBusyDeadlineMs);
    auto pause = std::chrono::milliseconds(5);
    for (;;) {
        const int rc = attempt();
        if (!is_busy(rc) || !sqlite3_get_autocommit(db) || Clock::now() >= deadline) {
            return rc;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(250));
    }
}

}  // namespace

void Database::Close::operator()(sqlite3 * db) const noexcept {
    sqlite3_close_v2(db);
}

Database::Database(fs::path file, OpenMode mode, const ErrorWording & wording)
    : file_(std::move(file)), wording_(wording) {
    sqlite3 * raw = nullptr;
    const int rc = sqlite3_open_v2(file_.c_str(), &raw, open_flags(mode), nullptr);
    db_.reset(raw);  // even a failed open returns a handle, which holds the message
    if (rc != SQLITE_OK) {
        fail(rc, "open");
    }
    sqlite3_extended_result_codes(db_.get(), 1);
    sqlite3_busy_timeout(db_.get(), kBusyTimeoutMs);
}

Database::~Database() = default;
Database::Database(Database &&) noexcept = default;
Database & Database::operator=(Database &&) noexcept = default;

void Database::exec(const char * sql) {
    const int rc = retry_while_busy(db_.get(), [&] { return sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr); });
    if (rc != SQLITE_OK) {
        fail(rc, "a statement");
    }
}

int Database::changes() const {
    return sqlite3_changes(db_.get());
}

std::int64_t Database::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_.get());
}

void Database::fail(int rc, const char * what) const {
    const int primary = rc & 0xff;
    const std::string detail = db_ != nullptr ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
    const auto error = [&](ErrorKind kind, const std::string & reason) {
        return Error(kind, fmt::format("{} '{}': {}", wording_.owner, file_.string(), reason));
    };
    if (primary == SQLITE_NOTADB) {
        throw error(ErrorKind::InvalidInput, fmt::format("not an SQLite database ({})", detail));
    }
    if (primary == SQLITE_CORRUPT) {
        throw error(ErrorKind::InvalidInput,
                    fmt::format("the database is corrupt ({}){}", detail, wording_.corrupt_advice));
    }
    if (primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY || primary == SQLITE_PERM) {
        throw error(ErrorKind::InvalidInput, fmt::format("{} ({})", wording_.cannot_open, detail));
    }
    throw error(ErrorKind::Runtime, fmt::format("{} failed: {}", what, detail));
}

Statement::Statement(const Database & db, const char * sql) : db_(db) {
    check(sqlite3_prepare_v2(db_.handle(), sql, -1, &stmt_, nullptr), "prepare");
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

Statement & Statement::bind(int index, const std::string & text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT), "bind");
    return *this;
}

Statement & Statement::bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value), "bind");
    return *this;
}

Statement & Statement::bind(int index, double value) {
    check(sqlite3_bind_double(stmt_, index, value), "bind");
    return *this;
}

Statement & Statement::bind(int index, const std::vector<float> & values) {
    const auto bytes = static_cast<sqlite3_uint64>(values.size() * sizeof(float));
    static const float empty = 0;  // a non-null pointer: SQLite binds NULL for a null one
    const void * data = values.empty() ? &empty : values.data();
    check(sqlite3_bind_blob64(stmt_, index, data, bytes, SQLITE_TRANSIENT), "bind");
    return *this;
}

Statement & Statement::bind_null(int index) {
    check(sqlite3_bind_null(stmt_, index), "bind");
    return *this;
}

bool Statement::step() {
    const int rc = retry_while_busy(db_.handle(), [&] {
        const int attempt = sqlite3_step(stmt_);
        if (is_busy(attempt)) {
            sqlite3_reset(stmt_);  // bindings stay; the statement starts over
        }
        return attempt;
    });
    if (rc == SQLITE_ROW) {
        return true;
    }
    check(rc == SQLITE_DONE ? SQLITE_OK : rc, "step");
    return false;
}

std::int64_t Statement::integer(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

double Statement::real(int column) const {
    return sqlite3_column_double(stmt_, column);
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::string Statement::text(int column) const {
    const auto * p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char *>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : "";
}

std::vector<float> Statement::floats(int column) const {
    const void * blob = sqlite3_column_blob(stmt_, column);
    const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
    if (bytes % sizeof(float) != 0) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("{} '{}': a stored vector has {} bytes, not a multiple of 4 (corrupt entry)",
                                db_.wording().owner, db_.file().string(), bytes));
    }
    std::vector<float> values(bytes / sizeof(float));
    if (bytes > 0) {
        std::memcpy(values.data(), blob, bytes);
    }
    return values;
}

void Statement::check(int rc, const char * what) const {
    if (rc != SQLITE_OK) {
        db_.fail(rc, what);
    }
}

Transaction::Transaction(Database & db) : db_(db) {
    db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
    if (!committed_) {
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void Transaction::commit() {
    db_.exec("COMMIT");
    committed_ = true;
}

}  // namespace dermlens::sqlite
