#include "vision/embedding_cache.h"

#include "common/data_dir.h"
#include "common/sqlite_db.h"
#include "dermlens/error.h"

#include <fmt/format.h>

namespace dermlens::vision {
namespace {

namespace fs = std::filesystem;
using sqlite::Statement;
using sqlite::Transaction;

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

constexpr sqlite::ErrorWording kErrorWording = {
    .owner = "embedding cache",
    .cannot_open = "cannot open it for writing",
    .corrupt_advice = "; delete it and run `dermlens embed` again",
};

// The cache file, checked and its folder created before SQLite opens (or creates) it.
const fs::path & checked_location(const fs::path & file, CacheAccess access) {
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
    return file;
}

sqlite::OpenMode open_mode(CacheAccess access) {
    return access == CacheAccess::CreateIfMissing ? sqlite::OpenMode::ReadWriteCreate : sqlite::OpenMode::ReadWrite;
}

}  // namespace

struct EmbeddingCache::Impl {
    sqlite::Database db;

    Impl(const fs::path & file, CacheAccess access)
        : db(checked_location(file, access), open_mode(access), kErrorWording) {
        db.exec("PRAGMA foreign_keys = ON");  // reads the header: a non-database fails here or below
        set_journal_wal();
        db.exec("PRAGMA synchronous = NORMAL");
        check_or_create_schema();
    }

    void set_journal_wal() {
        Statement wal(db, "PRAGMA journal_mode = WAL");
        wal.step();
    }

    void check_or_create_schema() {
        Transaction transaction(db);
        Statement tables(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
        bool any_table = false;
        bool has_version = false;
        while (tables.step()) {
            any_table = true;
            has_version = has_version || tables.text(0) == "schema_version";
        }
        if (!any_table) {
            db.exec(kSchema);
            Statement insert(db, "INSERT INTO schema_version (version) VALUES (?)");
            insert.bind(1, static_cast<std::int64_t>(kSchemaVersion)).step();
            transaction.commit();
            return;
        }
        if (!has_version) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("embedding cache '{}': an SQLite database but not a dermlens embedding cache "
                                    "(no schema_version table)",
                                    db.file().string()));
        }
        Statement version(db, "SELECT version FROM schema_version");
        if (!version.step()) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("embedding cache '{}': schema_version table is empty", db.file().string()));
        }
        const std::int64_t found = version.integer(0);
        if (found != kSchemaVersion) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("embedding cache '{}': schema version {} is not the one this dermlens reads ({}); "
                                    "use another cache file",
                                    db.file().string(), found, kSchemaVersion));
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
    return impl_->db.file();
}

bool EmbeddingCache::contains(const std::string & image_sha256, const EncoderIdentity & encoder) const {
    Statement query(impl_->db, fmt::format("SELECT 1 FROM encodings{}", Impl::kKeyWhere).c_str());
    impl_->bind_key(query, image_sha256, encoder);
    return query.step();
}

std::optional<model::ImageEncoding> EmbeddingCache::get(const std::string & image_sha256,
                                                        const EncoderIdentity & encoder) const {
    Statement query(impl_->db,
                    fmt::format("SELECT image_width, image_height, n_tokens, n_embd, encoder_tokens, encoder_mean, "
                                "projected_mean, preprocess_ms, encode_ms, embeddings FROM encodings "
                                "JOIN image_embeddings ON image_embeddings.encoding_id = encodings.id{}",
                                Impl::kKeyWhere)
                        .c_str());
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
                                impl_->db.file().string(), image_sha256, encoding.embeddings.size(), encoding.n_tokens,
                                encoding.n_embd));
    }
    return encoding;
}

std::optional<std::vector<float>> EmbeddingCache::feature(const std::string & image_sha256,
                                                          const EncoderIdentity & encoder) const {
    const char * column = encoder.kind == FeatureKind::EncoderMean ? "encoder_mean" : "projected_mean";
    Statement query(impl_->db, fmt::format("SELECT {} FROM encodings{}", column, Impl::kKeyWhere).c_str());
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
                                impl_->db.file().string(), image_sha256, encoding.n_tokens, encoding.n_embd,
                                encoding.embeddings.size(), encoding.encoder_mean.size()));
    }
    sqlite::Database & db = impl_->db;
    Transaction transaction(db);
    {
        Statement remove(db, fmt::format("DELETE FROM encodings{}", Impl::kKeyWhere).c_str());
        impl_->bind_key(remove, image_sha256, encoder);
        remove.step();
    }
    Statement insert(db,
                     "INSERT INTO encodings (image_sha256, mmproj_sha256, preprocessing, image_width, image_height, "
                     "n_tokens, n_embd, encoder_tokens, encoder_mean, projected_mean, preprocess_ms, encode_ms) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
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
    Statement embeddings(db, "INSERT INTO image_embeddings (encoding_id, embeddings) VALUES (?1, ?2)");
    embeddings.bind(1, db.last_insert_rowid()).bind(2, encoding.embeddings).step();
    transaction.commit();
}

std::size_t EmbeddingCache::count() const {
    Statement query(impl_->db, "SELECT COUNT(*) FROM encodings");
    query.step();
    return static_cast<std::size_t>(query.integer(0));
}

std::size_t EmbeddingCache::count(const EncoderIdentity & encoder) const {
    Statement query(impl_->db, "SELECT COUNT(*) FROM encodings WHERE mmproj_sha256 = ?1 AND preprocessing = ?2");
    query.bind(1, encoder.mmproj_sha256).bind(2, encoder.preprocessing);
    query.step();
    return static_cast<std::size_t>(query.integer(0));
}

fs::path default_cache_path() {
    return cache_dir() / "embeddings.sqlite";
}

}  // namespace dermlens::vision
