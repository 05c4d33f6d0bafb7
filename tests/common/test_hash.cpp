#include "common/hash.h"

#include "dermlens/error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string_view>

namespace {

std::span<const std::uint8_t> as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t *>(text.data()), text.size()};
}

// Reference digests from FIPS 180-2 appendix B / `sha256sum`.
TEST(Sha256, MatchesKnownDigests) {
    EXPECT_EQ(dermlens::sha256_bytes(as_bytes("")),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(dermlens::sha256_bytes(as_bytes("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, FileEqualsBytes) {
    const auto path = std::filesystem::temp_directory_path() / "dermlens_hash_test.bin";
    std::string content(3'000'000, 'x');  // spans several read buffers
    std::ofstream(path, std::ios::binary) << content;
    EXPECT_EQ(dermlens::sha256_file(path), dermlens::sha256_bytes(as_bytes(content)));
    std::filesystem::remove(path);
}

TEST(Sha256, MissingFileNamesThePath) {
    try {
        dermlens::sha256_file("/nonexistent/model.gguf");
        FAIL() << "expected an error";
    } catch (const dermlens::Error & e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
    }
}

}  // namespace
