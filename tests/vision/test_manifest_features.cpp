// features_for_manifest: a manifest's FeatureTable read from the embedding cache (no model),
// and the error that lists the images `dermlens embed` has not encoded yet.
#include "common/hash.h"
#include "dermlens/error.h"
#include "dataset/manifest.h"
#include "support/temp_dir.h"
#include "vision/embedding_cache.h"
#include "vision/manifest_features.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using dermlens::model::ImageEncoding;
using dermlens::test::TempDir;
using dermlens::test::write_file;
using dermlens::vision::EmbeddingCache;
using dermlens::vision::EncoderIdentity;
using dermlens::vision::FeatureKind;
using dermlens::vision::features_for_manifest;
using testing::ElementsAre;
using testing::HasSubstr;

EncoderIdentity encoder(FeatureKind kind) {
    EncoderIdentity identity;
    identity.mmproj_sha256 = std::string(64, 'c');
    identity.kind = kind;
    identity.preprocessing = "mlp;336px;mean=0.48,0.46,0.41;std=0.27,0.26,0.28;layer=block-22";
    return identity;
}

ImageEncoding fake_encoding(float value) {
    ImageEncoding e;
    e.image_width = 8;
    e.image_height = 8;
    e.n_tokens = 2;
    e.n_embd = 2;
    e.embeddings = {value, value, value, value};
    e.projected_mean = {value, -value};
    e.encoder_mean = {value, 2 * value, 3 * value};
    e.encoder_tokens = 4;
    return e;
}

class ManifestFeatures : public testing::Test {
protected:
    void SetUp() override {
        write_file(dir_ / "img" / "a.jpg", "pixels of a");
        write_file(dir_ / "img" / "b.jpg", "pixels of b");
        write_file(dir_ / "img" / "c.jpg", "pixels of c");
        write_file(dir_ / "m.csv",
                   "image,label,split,patient_id,site\n"
                   "img/a.jpg,nevus,train,p1,arm\n"
                   "img/b.jpg,melanoma,test,p2,leg\n"
                   "img/c.jpg,nevus,train,p1,arm\n");
    }

    void cache_image(EmbeddingCache & cache, const char * name, float value) {
        cache.put(dermlens::sha256_file(dir_ / "img" / name), encoder(FeatureKind::EncoderMean), fake_encoding(value));
    }

    TempDir dir_{"features"};
};

TEST_F(ManifestFeatures, OneRowPerManifestRowInOrder) {
    EmbeddingCache cache(dir_ / "e.sqlite");
    cache_image(cache, "a.jpg", 1);
    cache_image(cache, "b.jpg", 2);
    cache_image(cache, "c.jpg", 3);
    const auto manifest = dermlens::dataset::read_manifest(dir_ / "m.csv");

    const auto table = features_for_manifest(manifest, cache, encoder(FeatureKind::EncoderMean));
    EXPECT_EQ(table.encoder, encoder(FeatureKind::EncoderMean));
    EXPECT_THAT(table.images, ElementsAre("img/a.jpg", "img/b.jpg", "img/c.jpg"));
    EXPECT_THAT(table.labels, ElementsAre("nevus", "melanoma", "nevus"));
    EXPECT_THAT(table.splits, ElementsAre("train", "test", "train"));
    EXPECT_THAT(table.patient_ids, ElementsAre("p1", "p2", "p1"));
    ASSERT_EQ(table.features.rows(), 3);
    ASSERT_EQ(table.features.cols(), 3);
    EXPECT_FLOAT_EQ(table.features(1, 2), 6.0f);
    EXPECT_FLOAT_EQ(table.features(2, 0), 3.0f);

    const auto projected = features_for_manifest(manifest, cache, encoder(FeatureKind::ProjectedMean));
    EXPECT_EQ(projected.encoder.kind, FeatureKind::ProjectedMean);
    ASSERT_EQ(projected.features.cols(), 2);
    EXPECT_FLOAT_EQ(projected.features(1, 1), -2.0f);
}

TEST_F(ManifestFeatures, ImagesNotInTheCacheAreListed) {
    EmbeddingCache cache(dir_ / "e.sqlite");
    cache_image(cache, "b.jpg", 2);
    std::filesystem::remove(dir_ / "img" / "c.jpg");
    const auto manifest = dermlens::dataset::read_manifest(dir_ / "m.csv");
    try {
        features_for_manifest(manifest, cache, encoder(FeatureKind::EncoderMean));
        FAIL() << "expected an error";
    } catch (const dermlens::Error & e) {
        EXPECT_EQ(e.kind(), dermlens::ErrorKind::InvalidInput);
        EXPECT_THAT(e.what(), HasSubstr("2 of 3 images"));
        EXPECT_THAT(e.what(), HasSubstr("run `dermlens embed` first"));
        EXPECT_THAT(e.what(), HasSubstr("\n  img/a.jpg"));
        EXPECT_THAT(e.what(), HasSubstr("\n  img/c.jpg ("));
        EXPECT_THAT(e.what(), testing::Not(HasSubstr("img/b.jpg")));
    }
    // Another encoder's entries do not count.
    EncoderIdentity other = encoder(FeatureKind::EncoderMean);
    other.mmproj_sha256 = std::string(64, 'd');
    EXPECT_THROW(features_for_manifest(manifest, cache, other), dermlens::Error);
}

}  // namespace
