// The small SQLite layer that dermlens's database files (the embedding cache, an evaluation's run
// store) share: an open database, prepared statements and transactions. Every failure throws
// Error naming the file in its owner's words; the owner keeps its schema and its own checks.
//
// Several processes may share one file (shards of an evaluation filling one embedding cache):
// a statement that meets another connection's lock waits (the busy timeout), and one that still
// finds the database busy outside a transaction (BEGIN IMMEDIATE, a journal-mode switch, a
// one-statement write) is retried until kBusyDeadline has passed, which SQLite allows for such
// statements; only then is it an error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace dermlens::sqlite {

// How the owner of a database file words its errors (string literals: they are kept, not
// copied). Every message starts "<owner> '<file>': ".
struct ErrorWording {
    std::string_view owner;           // "run store"
    std::string_view cannot_open;     // why the file could not be opened: "cannot open it"
    std::string_view corrupt_advice;  // follows "the database is corrupt (...)": what to do, or ""
};

enum class OpenMode { ReadOnly, ReadWrite, ReadWriteCreate };

// How long one statement may wait for other connections' locks, retries included.
inline constexpr int kBusyTimeoutMs = 10000;
inline constexpr int kBusyDeadlineMs = 120000;

class Database {
public:
    // Opens `file` (its folder must exist) with extended result codes and a kBusyTimeoutMs busy
    // timeout, for a reader that meets a writer's lock. A file that is not a database opens: the first
    // statement that reads it fails.
    Database(std::filesystem::path file, OpenMode mode, const ErrorWording & wording);
    ~Database();
    Database(Database &&) noexcept;
    Database & operator=(Database &&) noexcept;
    Database(const Database &) = delete;
    Database & operator=(const Database &) = delete;

    const std::filesystem::path & file() const noexcept { return file_; }
    const ErrorWording & wording() const noexcept { return wording_; }
    sqlite3 * handle() const noexcept { return db_.get(); }

    // Runs `sql` (one or more statements) for its effect only; retried while busy outside a transaction.
    void exec(const char * sql);
    // Rows changed by the last INSERT, UPDATE or DELETE.
    int changes() const;
    std::int64_t last_insert_rowid() const;

    // Not a database, corrupt, or not openable: the file is the problem (InvalidInput); anything
    // else (disk full, I/O error) is a runtime failure. `what` names the failed call ("step").
    [[noreturn]] void fail(int rc, const char * what) const;

private:
    struct Close {
        void operator()(sqlite3 * db) const noexcept;
    };

    std::filesystem::path file_;
    ErrorWording wording_;
    std::unique_ptr<sqlite3, Close> db_;
};

class Statement {
public:
    Statement(const Database & db, const char * sql);
    ~Statement();
    Statement(const Statement &) = delete;
    Statement & operator=(const Statement &) = delete;

    Statement & bind(int index, const std::string & text);
    Statement & bind(int index, std::int64_t value);
    Statement & bind(int index, double value);
    // A float32 blob in the host's (little-endian) byte order; an empty vector binds an empty
    // blob, never NULL.
    Statement & bind(int index, const std::vector<float> & values);
    Statement & bind_null(int index);

    // True while a row is available. Retried while busy outside a transaction.
    bool step();

    std::int64_t integer(int column) const;
    double real(int column) const;
    bool is_null(int column) const;
    std::string text(int column) const;
    // A blob bound as floats; one whose size is not a whole number of floats is a corrupt entry.
    std::vector<float> floats(int column) const;

private:
    void check(int rc, const char * what) const;

    const Database & db_;
    sqlite3_stmt * stmt_ = nullptr;
};

// BEGIN IMMEDIATE; rolls back unless committed, so an exception mid-way leaves the file as it was.
class Transaction {
public:
    explicit Transaction(Database & db);
    ~Transaction();
    Transaction(const Transaction &) = delete;
    Transaction & operator=(const Transaction &) = delete;

    void commit();

private:
    Database & db_;
    bool committed_ = false;
};

}  // namespace dermlens::sqlite
