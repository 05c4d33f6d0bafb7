// The embedding cache: one SQLite file holding, per image and encoder, everything the
// vision encoder produced — both pooled features and the projected image embeddings the
// text model reads — so no image is ever encoded twice (docs/embeddings.md).
//
// Key: the image file's SHA-256 and the encoder (EncoderIdentity's mmproj_sha256 and
// preprocessing; its `kind` only picks which pooled feature feature() returns, since
// every entry holds both). Each put() is its own transaction in WAL mode, so an
// interrupted run loses at most the image in flight and concurrent readers see whole
// entries only.
#pragma once

#include "model/vlm.h"
#include "vision/feature_table.h"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::vision {

enum class CacheAccess {
    CreateIfMissing,  // `dermlens embed`: creates the file (and its folder) when absent
    MustExist,        // readers: a missing file is an error that says to run `dermlens embed`
};

class EmbeddingCache {
public:
    // Throws Error(InvalidInput) naming the file when it is not an SQLite database, is corrupt,
    // is some other program's database, has a newer schema, or (MustExist) does not exist.
    explicit EmbeddingCache(const std::filesystem::path & file, CacheAccess access = CacheAccess::CreateIfMissing);
    ~EmbeddingCache();
    EmbeddingCache(const EmbeddingCache &) = delete;
    EmbeddingCache & operator=(const EmbeddingCache &) = delete;

    static constexpr int kSchemaVersion = 1;

    const std::filesystem::path & path() const noexcept;

    bool contains(const std::string & image_sha256, const EncoderIdentity & encoder) const;

    // The whole encoding (embeddings included: megabytes for a real model).
    std::optional<model::ImageEncoding> get(const std::string & image_sha256, const EncoderIdentity & encoder) const;

    // Only the pooled feature of `encoder.kind` (reads neither the other one nor the embeddings).
    std::optional<std::vector<float>> feature(const std::string & image_sha256, const EncoderIdentity & encoder) const;

    // Stores (or replaces) one image's encoding in a single transaction.
    void put(const std::string & image_sha256, const EncoderIdentity & encoder, const model::ImageEncoding & encoding);

    std::size_t count() const;                                // entries for any encoder
    std::size_t count(const EncoderIdentity & encoder) const;  // entries for this encoder

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// embeddings.sqlite in dermlens's cache folder (common/data_dir.h: cache_dir()).
std::filesystem::path default_cache_path();

}  // namespace dermlens::vision
