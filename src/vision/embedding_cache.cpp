#include "vision/embedding_cache.h"

#include "common/data_dir.h"
#include "dermlens/error.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include <bit>
#include <cstring>

namespace dermlens::vision {
namespace {

namespace fs = std::filesystem;

// Vectors are stored as raw float32 blobs in the host's byte order, which must be little-endian
// so that cache files move between machines.
static_assert(std::endian::native == std::endian::little, "the embedding cache stores little-endian float32");

constexpr const char * kSchema = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE encodings (
    id             INTEGER PRIMARY KEY,
    image_sha256   TEXT    NOT NULL,
    mmproj_sha256  TEXT    NOT NULL,
    preprocessing  TEXT    NOT NULL,
    image_width    INTEGER NOT NULL,
    image_height   INTEGER NOT NULL,
    n_tokens       INTEGER NOT NULL,
    n_embd         INTEGER NOT NULL,
    encoder_tokens INTEGER NOT NULL,
    encoder_mean   BLOB    NOT NULL,
    projected_mean BLOB    NOT NULL,
    preprocess_ms  REAL    NOT NULL,
    encode_ms      REAL    NOT NULL,
    created_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (image_sha256, mmproj_sha256, preprocessing)
);
CREATE TABLE image_embeddings (
    encoding_id INTEGER PRIMARY KEY REFERENCES encodings (id) ON DELETE CASCADE,
    embeddings  BLOB NOT NULL
);
)sql";

struct DbDeleter {
    void operator()(sqlite3 * db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbDeleter>;

class Statement {
public:
    Statement(sqlite3 * db, const char * sql, const fs::path & file) : db_(db), file_(file) {
        check(sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr), "prepare");
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement &) = delete;
    Statement & operator=(const Statement &) = delete;

    Statement & bind(int index, const std::string & text) {
        check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT), "bind");
        return *this;
    }
    Statement & bind(int index, std::int64_t value) {
        check(sqlite3_bind_int64(stmt_, index, value), "bind");
        return *this;
    }
    Statement & bind(int index, double value) {
        check(sqlite3_bind_double(stmt_, index, value), "bind");
        return *this;
    }
    Statement & bind(int index, const std::vector<float> & values) {
        const auto bytes = static_cast<sqlite3_uint64>(values.size() * sizeof(float));
        // An empty vector still binds a (zero-length) blob, never NULL.
        static const float empty = 0;
        const void * data = values.empty() ? &empty : values.data();
        check(sqlite3_bind_blob64(stmt_, index, data, bytes, SQLITE_TRANSIENT), "bind");
        return *this;
    }

    // True while a row is available.
    bool step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        check(rc == SQLITE_DONE ? SQLITE_OK : rc, "step");
        return false;
    }

    std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
    double real(int column) const { return sqlite3_column_double(stmt_, column); }
    std::string text(int column) const {
        const auto * p = sqlite3_column_text(stmt_, column);
        return p ? std::string(reinterpret_cast<const char *>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : "";
    }
    std::vector<float> floats(int column) const {
        const void * blob = sqlite3_column_blob(stmt_, column);
        const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
        if (bytes % sizeof(float) != 0) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("embedding cache '{}': a stored vector has {} bytes, not a multiple of 4 (corrupt entry)",
                                    file_.string(), bytes));
        }
        std::vector<float> values(bytes / sizeof(float));
        if (bytes > 0) {
            std::memcpy(values.data(), blob, bytes);
        }
        return values;
    }

private:
    void check(int rc, const char * what) const;

    sqlite3 * db_;
    const fs::path & file_;
    sqlite3_stmt * stmt_ = nullptr;
};

// Not a database / corrupt: the file is the problem (InvalidInput); anything else is a runtime failure.
[[noreturn]] void fail_sqlite(sqlite3 * db, int rc, const fs::path & file, const char * what) {
    const int primary = rc & 0xff;
    const std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (primary == SQLITE_NOTADB) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("embedding cache '{}': not an SQLite database ({})", file.string(), detail));
    }
    if (primary == SQLITE_CORRUPT) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("embedding cache '{}': the database is corrupt ({}); delete it and run `dermlens "
                                "embed` again",
                                file.string(), detail));
    }
    if (primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY || primary == SQLITE_PERM) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("embedding cache '{}': cannot open it for writing ({})", file.string(), detail));
    }
    throw Error(ErrorKind::Runtime, fmt::format("embedding cache '{}': {} failed: {}", file.string(), what, detail));
}

void Statement::check(int rc, const char * what) const {
    if (rc != SQLITE_OK) {
        fail_sqlite(db_, rc, file_, what);
    }
}

void exec(sqlite3 * db, const char * sql, const fs::path & file) {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        fail_sqlite(db, rc, file, "a statement");
    }
}

// Rolls back unless committed: an exception mid-put leaves the cache as it was.
class Transaction {
public:
    Transaction(sqlite3 * db, const fs::path & file) : db_(db), file_(file) { exec(db_, "BEGIN IMMEDIATE", file_); }
    ~Transaction() {
        if (!committed_) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        }
    }
    Transaction(const Transaction &) = delete;
    Transaction & operator=(const Transaction &) = delete;

    void commit() {
        exec(db_, "COMMIT", file_);
        committed_ = true;
    }

private:
    sqlite3 * db_;
    const fs::path & file_;
    bool committed_ = false;
};

}  // namespace

struct EmbeddingCache::Impl {
    fs::path file;
    DbPtr db;

    Impl(const fs::path & path, CacheAccess access) : file(path) {
        std::error_code ec;
        const bool exists = fs::exists(file, ec);
        if (!exists && access == CacheAccess::MustExist) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("embedding cache '{}' does not exist; run `dermlens embed` first", file.string()));
        }
        if (exists && !fs::is_regular_file(file, ec)) {
            throw Error(ErrorKind::InvalidInput, fmt::format("embedding cache '{}': not a regular file", file.string()));
        }
        if (!exists && file.has_parent_path()) {
            fs::create_directories(file.parent_path(), ec);
            if (ec) {
                throw Error(ErrorKind::InvalidInput, fmt::format("embedding cache '{}': cannot create its folder: {}",
                                                                 file.string(), ec.message()));
            }
        }
        sqlite3 * raw = nullptr;
        const int flags = SQLITE_OPEN_READWRITE | (access == CacheAccess::CreateIfMissing ? SQLITE_OPEN_CREATE : 0);
        const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
        db.reset(raw);
        if (rc != SQLITE_OK) {
            fail_sqlite(db.get(), rc, file, "open");
        }
        sqlite3_busy_timeout(db.get(), 10000);
        sqlite3_extended_result_codes(db.get(), 1);
        exec(db.get(), "PRAGMA foreign_keys = ON", file);  // reads the header: a non-database fails here or below
        set_journal_wal();
        exec(db.get(), "PRAGMA synchronous = NORMAL", file);
        check_or_create_schema();
    }

    void set_journal_wal() {
        Statement wal(db.get(), "PRAGMA journal_mode = WAL", file);
        wal.step();
    }

    void check_or_create_schema() {
        Transaction transaction(db.get(), file);
        Statement tables(db.get(), "SELECT name FROM sqlite_master WHERE type = 'table'", file);
        bool any_table = false;
        bool has_version = false;
        while (tables.step()) {
            any_table = true;
            has_version = has_version || tables.text(0) == "schema_version";
        }
        if (!any_table) {
            exec(db.get(), kSchema, file);
            Statement insert(db.get(), "INSERT INTO schema_version (version) VALUES (?)", file);
            insert.bind(1, static_cast<std::int64_t>(kSchemaVersion)).step();
            transaction.commit();
            return;
        }
        if (!has_version) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("embedding cache '{}': an SQLite database but not a dermlens embedding cache "
                                    "(no schema_version table)",
                                    file.string()));
        }
        Statement version(db.get(), "SELECT version FROM schema_version", file);
        if (!version.step()) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("embedding cache '{}': schema_version table is empty", file.string()));
        }
        const std::int64_t found = version.integer(0);
        if (found != kSchemaVersion) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("embedding cache '{}': schema version {} is not the one this dermlens reads ({}); "
                                    "use another --cache file",
                                    file.string(), found, kSchemaVersion));
        }
        transaction.commit();
    }

    static constexpr const char * kKeyWhere = " WHERE image_sha256 = ?1 AND mmproj_sha256 = ?2 AND preprocessing = ?3";

    void bind_key(Statement & statement, const std::string & image_sha256, const EncoderIdentity & encoder) const {
        statement.bind(1, image_sha256).bind(2, encoder.mmproj_sha256).bind(3, encoder.preprocessing);
    }
};

EmbeddingCache::EmbeddingCache(const fs::path & file, CacheAccess access)
    : impl_(std::make_unique<Impl>(file, access)) {}

EmbeddingCache::~EmbeddingCache() = default;

const fs::path & EmbeddingCache::path() const noexcept {
    return impl_->file;
}

bool EmbeddingCache::contains(const std::string & image_sha256, const EncoderIdentity & encoder) const {
    Statement query(impl_->db.get(), fmt::format("SELECT 1 FROM encodings{}", Impl::kKeyWhere).c_str(), impl_->file);
    impl_->bind_key(query, image_sha256, encoder);
    return query.step();
}

std::optional<model::ImageEncoding> EmbeddingCache::get(const std::string & image_sha256,
                                                        const EncoderIdentity & encoder) const {
    Statement query(impl_->db.get(),
                    fmt::format("SELECT image_width, image_height, n_tokens, n_embd, encoder_tokens, encoder_mean, "
                                "projected_mean, preprocess_ms, encode_ms, embeddings FROM encodings "
                                "JOIN image_embeddings ON image_embeddings.encoding_id = encodings.id{}",
                                Impl::kKeyWhere)
                        .c_str(),
                    impl_->file);
    impl_->bind_key(query, image_sha256, encoder);
    if (!query.step()) {
        return std::nullopt;
    }
    model::ImageEncoding encoding;
    encoding.image_width = static_cast<int>(query.integer(0));
    encoding.image_height = static_cast<int>(query.integer(1));
    encoding.n_tokens = static_cast<int>(query.integer(2));
    encoding.n_embd = static_cast<int>(query.integer(3));
    encoding.encoder_tokens = static_cast<int>(query.integer(4));
    encoding.encoder_mean = query.floats(5);
    encoding.projected_mean = query.floats(6);
    encoding.preprocess_ms = query.real(7);
    encoding.encode_ms = query.real(8);
    encoding.embeddings = query.floats(9);
    if (encoding.embeddings.size() != static_cast<std::size_t>(encoding.n_tokens) * static_cast<std::size_t>(encoding.n_embd)) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("embedding cache '{}': image {} holds {} embedding values, not {} tokens x {} (corrupt "
                                "entry)",
                                impl_->file.string(), image_sha256, encoding.embeddings.size(), encoding.n_tokens,
                                encoding.n_embd));
    }
    return encoding;
}

std::optional<std::vector<float>> EmbeddingCache::feature(const std::string & image_sha256,
                                                          const EncoderIdentity & encoder) const {
    const char * column = encoder.kind == FeatureKind::EncoderMean ? "encoder_mean" : "projected_mean";
    Statement query(impl_->db.get(), fmt::format("SELECT {} FROM encodings{}", column, Impl::kKeyWhere).c_str(),
                    impl_->file);
    impl_->bind_key(query, image_sha256, encoder);
    if (!query.step()) {
        return std::nullopt;
    }
    return query.floats(0);
}

void EmbeddingCache::put(const std::string & image_sha256, const EncoderIdentity & encoder,
                         const model::ImageEncoding & encoding) {
    if (encoding.embeddings.size() != static_cast<std::size_t>(encoding.n_tokens) * static_cast<std::size_t>(encoding.n_embd) ||
        encoding.projected_mean.size() != static_cast<std::size_t>(encoding.n_embd) || encoding.encoder_mean.empty()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("embedding cache '{}': refusing an incomplete encoding of image {} ({} tokens x {}, "
                                "{} embedding values, {} encoder features)",
                                impl_->file.string(), image_sha256, encoding.n_tokens, encoding.n_embd,
                                encoding.embeddings.size(), encoding.encoder_mean.size()));
    }
    sqlite3 * db = impl_->db.get();
    Transaction transaction(db, impl_->file);
    {
        Statement remove(db, fmt::format("DELETE FROM encodings{}", Impl::kKeyWhere).c_str(), impl_->file);
        impl_->bind_key(remove, image_sha256, encoder);
        remove.step();
    }
    Statement insert(db,
                     "INSERT INTO encodings (image_sha256, mmproj_sha256, preprocessing, image_width, image_height, "
                     "n_tokens, n_embd, encoder_tokens, encoder_mean, projected_mean, preprocess_ms, encode_ms) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                     impl_->file);
    impl_->bind_key(insert, image_sha256, encoder);
    insert.bind(4, static_cast<std::int64_t>(encoding.image_width))
        .bind(5, static_cast<std::int64_t>(encoding.image_height))
        .bind(6, static_cast<std::int64_t>(encoding.n_tokens))
        .bind(7, static_cast<std::int64_t>(encoding.n_embd))
        .bind(8, static_cast<std::int64_t>(encoding.encoder_tokens))
        .bind(9, encoding.encoder_mean)
        .bind(10, encoding.projected_mean)
        .bind(11, encoding.preprocess_ms)
        .bind(12, encoding.encode_ms)
        .step();
    Statement embeddings(db, "INSERT INTO image_embeddings (encoding_id, embeddings) VALUES (?1, ?2)", impl_->file);
    embeddings.bind(1, static_cast<std::int64_t>(sqlite3_last_insert_rowid(db))).bind(2, encoding.embeddings).step();
    transaction.commit();
}

std::size_t EmbeddingCache::count() const {
    Statement query(impl_->db.get(), "SELECT COUNT(*) FROM encodings", impl_->file);
    query.step();
    return static_cast<std::size_t>(query.integer(0));
}

std::size_t EmbeddingCache::count(const EncoderIdentity & encoder) const {
    Statement query(impl_->db.get(), "SELECT COUNT(*) FROM encodings WHERE mmproj_sha256 = ?1 AND preprocessing = ?2",
                    impl_->file);
    query.bind(1, encoder.mmproj_sha256).bind(2, encoder.preprocessing);
    query.step();
    return static_cast<std::size_t>(query.integer(0));
}

fs::path default_cache_path() {
    return cache_dir() / "embeddings.sqlite";
}

}  // namespace dermlens::vision
