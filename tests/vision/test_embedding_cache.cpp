// The SQLite embedding cache: round trip of whole encodings and single features, keying by
// image hash and encoder, persistence across opens, and clear errors for files that are not
// (or no longer) a dermlens cache.
#include "dermlens/error.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"
#include "vision/embedding_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using dermlens::model::ImageEncoding;
using dermlens::test::TempDir;
using dermlens::test::write_file;
using dermlens::vision::CacheAccess;
using dermlens::vision::EmbeddingCache;
using dermlens::vision::EncoderIdentity;
using dermlens::vision::FeatureKind;
using testing::HasSubstr;

const std::string kImageA(64, 'a');
const std::string kImageB(64, 'b');

EncoderIdentity encoder(FeatureKind kind = FeatureKind::EncoderMean) {
    EncoderIdentity identity;
    identity.mmproj_sha256 = std::string(64, 'f');
    identity.kind = kind;
    identity.preprocessing = "gemma3;896px;mean=0.5,0.5,0.5;std=0.5,0.5,0.5;layer=post-ln";
    return identity;
}

ImageEncoding encoding(float seed, int n_tokens = 4, int n_embd = 3, int encoder_width = 5) {
    ImageEncoding e;
    e.image_width = 180;
    e.image_height = 120;
    e.n_tokens = n_tokens;
    e.n_embd = n_embd;
    for (int i = 0; i < n_tokens * n_embd; ++i) {
        e.embeddings.push_back(seed + 0.25f * static_cast<float>(i));
    }
    for (int i = 0; i < n_embd; ++i) {
        e.projected_mean.push_back(seed * 10 + static_cast<float>(i));
    }
    for (int i = 0; i < encoder_width; ++i) {
        e.encoder_mean.push_back(-seed - static_cast<float>(i) / 7.0f);
    }
    e.encoder_tokens = 16;
    e.preprocess_ms = 1.5;
    e.encode_ms = 42.0;
    return e;
}

void expect_same(const ImageEncoding & a, const ImageEncoding & b) {
    EXPECT_EQ(a.image_width, b.image_width);
    EXPECT_EQ(a.image_height, b.image_height);
    EXPECT_EQ(a.n_tokens, b.n_tokens);
    EXPECT_EQ(a.n_embd, b.n_embd);
    EXPECT_EQ(a.embeddings, b.embeddings);
    EXPECT_EQ(a.encoder_mean, b.encoder_mean);
    EXPECT_EQ(a.projected_mean, b.projected_mean);
    EXPECT_EQ(a.encoder_tokens, b.encoder_tokens);
    EXPECT_EQ(a.preprocess_ms, b.preprocess_ms);
    EXPECT_EQ(a.encode_ms, b.encode_ms);
}

void expect_input_error(const std::function<void()> & action, const std::vector<std::string> & needles) {
    dermlens::test::expect_error(action, dermlens::ErrorKind::InvalidInput, needles);
}

TEST(EmbeddingCache, RoundTripsWholeEncodingsAndEachFeatureKind) {
    TempDir dir("cache");
    EmbeddingCache cache(dir / "e.sqlite");
    EXPECT_EQ(cache.count(), 0u);
    EXPECT_FALSE(cache.contains(kImageA, encoder()));
    EXPECT_FALSE(cache.get(kImageA, encoder()).has_value());

    const ImageEncoding a = encoding(1.0f);
    cache.put(kImageA, encoder(), a);
    EXPECT_TRUE(cache.contains(kImageA, encoder()));
    EXPECT_TRUE(cache.contains(kImageA, encoder(FeatureKind::ProjectedMean)));  // one entry holds both kinds
    EXPECT_FALSE(cache.contains(kImageB, encoder()));
    const auto got = cache.get(kImageA, encoder());
    ASSERT_TRUE(got.has_value());
    expect_same(*got, a);
    EXPECT_EQ(cache.feature(kImageA, encoder(FeatureKind::EncoderMean)), a.encoder_mean);
    EXPECT_EQ(cache.feature(kImageA, encoder(FeatureKind::ProjectedMean)), a.projected_mean);
    EXPECT_FALSE(cache.feature(kImageB, encoder()).has_value());
    EXPECT_EQ(cache.count(), 1u);
    EXPECT_EQ(cache.count(encoder()), 1u);
}

TEST(EmbeddingCache, KeyedByImageAndEncoder) {
    TempDir dir("cache");
    EmbeddingCache cache(dir / "e.sqlite");
    EncoderIdentity other_mmproj = encoder();
    other_mmproj.mmproj_sha256 = std::string(64, 'e');
    EncoderIdentity other_layer = encoder();
    other_layer.preprocessing = "gemma3;896px;mean=0.5,0.5,0.5;std=0.5,0.5,0.5;layer=block-26";
    cache.put(kImageA, encoder(), encoding(1.0f));
    cache.put(kImageA, other_mmproj, encoding(2.0f));
    cache.put(kImageB, encoder(), encoding(3.0f));
    EXPECT_FALSE(cache.contains(kImageA, other_layer));
    EXPECT_EQ(cache.get(kImageA, other_mmproj)->embeddings, encoding(2.0f).embeddings);
    EXPECT_EQ(cache.get(kImageB, encoder())->embeddings, encoding(3.0f).embeddings);
    EXPECT_EQ(cache.count(), 3u);
    EXPECT_EQ(cache.count(encoder()), 2u);
    EXPECT_EQ(cache.count(other_mmproj), 1u);
    EXPECT_EQ(cache.count(other_layer), 0u);
}

TEST(EmbeddingCache, PutReplacesAnEntryAndPersistsAcrossOpens) {
    TempDir dir("cache");
    const fs::path file = dir / "nested" / "folder" / "e.sqlite";  // folders are created
    {
        EmbeddingCache cache(file);
        cache.put(kImageA, encoder(), encoding(1.0f));
        cache.put(kImageA, encoder(), encoding(5.0f, 2, 3, 5));
        EXPECT_EQ(cache.count(), 1u);
    }
    EmbeddingCache reopened(file, CacheAccess::MustExist);
    EXPECT_EQ(reopened.path(), file);
    EXPECT_EQ(reopened.count(), 1u);
    expect_same(*reopened.get(kImageA, encoder()), encoding(5.0f, 2, 3, 5));
    sqlite3 * db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt * stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM image_embeddings", -1, &stmt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(stmt, 0), 1) << "the replaced entry's embeddings are gone";
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

TEST(EmbeddingCache, UsesWalAndRecordsTheSchemaVersion) {
    TempDir dir("cache");
    const fs::path file = dir / "e.sqlite";
    EmbeddingCache cache(file);
    cache.put(kImageA, encoder(), encoding(1.0f));
    sqlite3 * db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    const auto single = [&](const char * sql) {
        sqlite3_stmt * stmt = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sql;
        EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW) << sql;
        std::string value(reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0)));
        sqlite3_finalize(stmt);
        return value;
    };
    EXPECT_EQ(single("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(single("SELECT version FROM schema_version"), std::to_string(EmbeddingCache::kSchemaVersion));
    sqlite3_close(db);
}

TEST(EmbeddingCache, RefusesAnIncompleteEncoding) {
    TempDir dir("cache");
    EmbeddingCache cache(dir / "e.sqlite");
    ImageEncoding bad = encoding(1.0f);
    bad.embeddings.pop_back();
    expect_input_error([&] { cache.put(kImageA, encoder(), bad); }, {"incomplete encoding"});
    EXPECT_EQ(cache.count(), 0u);
}

TEST(EmbeddingCache, MissingFileWhenItMustExist) {
    TempDir dir("cache");
    expect_input_error([&] { EmbeddingCache cache(dir / "absent.sqlite", CacheAccess::MustExist); },
                       {"absent.sqlite", "does not exist", "dermlens embed"});
    EXPECT_FALSE(fs::exists(dir / "absent.sqlite"));
}

TEST(EmbeddingCache, FilesThatAreNotACacheAreNamedWithTheReason) {
    TempDir dir("cache");
    write_file(dir / "text.sqlite", "image,label\na.jpg,nevus\n");
    expect_input_error([&] { EmbeddingCache cache(dir / "text.sqlite"); }, {"text.sqlite", "not an SQLite database"});

    std::string noise(8192, '\0');
    for (std::size_t i = 0; i < noise.size(); ++i) {
        noise[i] = static_cast<char>((i * 2654435761u) >> 13);
    }
    write_file(dir / "noise.sqlite", noise);
    expect_input_error([&] { EmbeddingCache cache(dir / "noise.sqlite"); }, {"noise.sqlite", "not an SQLite database"});

    fs::create_directories(dir / "folder.sqlite");
    expect_input_error([&] { EmbeddingCache cache(dir / "folder.sqlite"); }, {"folder.sqlite", "not a regular file"});

    const fs::path foreign = dir / "foreign.sqlite";
    sqlite3 * db = nullptr;
    ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE notes (text TEXT)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    expect_input_error([&] { EmbeddingCache cache(foreign); }, {"foreign.sqlite", "not a dermlens embedding cache"});

    const fs::path newer = dir / "newer.sqlite";
    { EmbeddingCache cache(newer); }
    ASSERT_EQ(sqlite3_open(newer.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    expect_input_error([&] { EmbeddingCache cache(newer); }, {"newer.sqlite", "schema version 99"});
}

TEST(EmbeddingCache, ACorruptedDatabaseIsReportedAsCorrupt) {
    TempDir dir("cache");
    const fs::path file = dir / "e.sqlite";
    {
        EmbeddingCache cache(file);
        for (int i = 0; i < 40; ++i) {
            cache.put(std::string(63, 'a') + static_cast<char>('A' + i), encoder(), encoding(static_cast<float>(i), 64, 32, 16));
        }
    }
    // Overwrite everything after the first page (the schema) with garbage.
    const auto size = fs::file_size(file);
    ASSERT_GT(size, 8192u);
    {
        std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
        io.seekp(4096);
        const std::string garbage(size - 4096, '\x5a');
        io.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    expect_input_error(
        [&] {
            EmbeddingCache cache(file);
            for (int i = 0; i < 40; ++i) {
                cache.get(std::string(63, 'a') + static_cast<char>('A' + i), encoder());
            }
        },
        {"e.sqlite", "corrupt"});
}

TEST(EmbeddingCache, DefaultPathFollowsTheCacheDirectory) {
    const char * previous = std::getenv("DERMLENS_CACHE_DIR");
    const std::string saved = previous ? previous : "";
    ::setenv("DERMLENS_CACHE_DIR", "/some/where", 1);
    EXPECT_EQ(dermlens::vision::default_cache_path(), fs::path("/some/where/embeddings.sqlite"));
    if (previous) {
        ::setenv("DERMLENS_CACHE_DIR", saved.c_str(), 1);
    } else {
        ::unsetenv("DERMLENS_CACHE_DIR");
    }
}

}  // namespace
