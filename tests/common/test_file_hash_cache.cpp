// The remembered model-file hashes (common/file_hash_cache.h): a hash is reused only while the
// file's identity is unchanged, and the store is an optimisation that can never change an answer.
#include "common/file_hash_cache.h"
#include "common/hash.h"
#include "dermlens/error.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using dermlens::sha256_file;
using dermlens::sha256_file_remembered;
using dermlens::test::TempDir;

void write(const fs::path & path, const std::string & text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string read(const fs::path & path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

constexpr char kForged[] = "0000000000000000000000000000000000000000000000000000000000000000";

// Replaces the remembered hash in the store, so that an answer read from the store shows itself.
void forge_store(const fs::path & store) {
    write(store, std::regex_replace(read(store), std::regex("^[0-9a-f]{64}"), kForged));
}

TEST(FileHashCache, RemembersAHashWhileTheFileIsUnchanged) {
    TempDir dir("hash_cache_same");
    const fs::path model = dir / "model.gguf";
    const fs::path store = dir / "cache" / "file-hashes.txt";
    write(model, std::string(100'000, 'm'));
    EXPECT_EQ(sha256_file_remembered(model, store), sha256_file(model));
    ASSERT_TRUE(fs::exists(store));
    forge_store(store);
    EXPECT_EQ(sha256_file_remembered(model, store), kForged) << "the second call hashed the file again";
}

TEST(FileHashCache, HashesAgainWhenTheFileChanges) {
    TempDir dir("hash_cache_changed");
    const fs::path model = dir / "model.gguf";
    const fs::path store = dir / "file-hashes.txt";
    write(model, "first version");
    sha256_file_remembered(model, store);
    forge_store(store);
    write(model, "second version, longer");
    EXPECT_EQ(sha256_file_remembered(model, store), sha256_file(model));

    forge_store(store);
    write(model, "second version, LONGER");  // same size: the modification time tells
    fs::last_write_time(model, fs::last_write_time(model) + std::chrono::seconds(5));
    EXPECT_EQ(sha256_file_remembered(model, store), sha256_file(model));
}

TEST(FileHashCache, ADamagedOrUnwritableStoreStillGivesTheHash) {
    TempDir dir("hash_cache_damaged");
    const fs::path model = dir / "model with spaces.gguf";
    write(model, "weights");
    const fs::path store = dir / "file-hashes.txt";
    write(store, "not a store\n\n12 34\n" + std::string(kForged) + " x y z w\n");
    EXPECT_EQ(sha256_file_remembered(model, store), sha256_file(model));
    forge_store(store);
    EXPECT_EQ(sha256_file_remembered(model, store), kForged) << "a path with spaces was not remembered";

    write(dir / "a file", "");
    EXPECT_EQ(sha256_file_remembered(model, dir / "a file" / "file-hashes.txt"), sha256_file(model));
}

TEST(FileHashCache, ForgetsFilesThatNoLongerExist) {
    TempDir dir("hash_cache_deleted");
    const fs::path store = dir / "file-hashes.txt";
    write(dir / "old.gguf", "old weights");
    write(dir / "new.gguf", "new weights");
    sha256_file_remembered(dir / "old.gguf", store);
    fs::remove(dir / "old.gguf");
    sha256_file_remembered(dir / "new.gguf", store);
    const std::string remembered = read(store);
    EXPECT_EQ(remembered.find("old.gguf"), std::string::npos) << remembered;
    EXPECT_NE(remembered.find("new.gguf"), std::string::npos) << remembered;
}

TEST(FileHashCache, AMissingFileIsNamed) {
    TempDir dir("hash_cache_missing");
    try {
        sha256_file_remembered(dir / "absent.gguf", dir / "file-hashes.txt");
        FAIL() << "expected an error";
    } catch (const dermlens::Error & e) {
        EXPECT_NE(std::string(e.what()).find("absent.gguf"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir / "file-hashes.txt"));
}

}  // namespace
