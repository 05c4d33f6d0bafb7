// The encoder identity of an mmproj, from its file hash and GGUF header alone.
#include "common/hash.h"
#include "dermlens/error.h"
#include "model/testmodel.h"
#include "support/temp_dir.h"
#include "vision/encoder_identity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace {

using dermlens::test::TempDir;
using dermlens::testmodel::Arch;
using dermlens::vision::encoder_identity;
using dermlens::vision::FeatureKind;
using testing::HasSubstr;

dermlens::testmodel::Files make(Arch arch, const TempDir & dir, std::uint64_t seed = 0) {
    dermlens::testmodel::Options options;
    options.arch = arch;
    options.seed = seed;
    options.out_dir = dir / (std::string(dermlens::testmodel::arch_name(arch)) + std::to_string(seed));
    return dermlens::testmodel::make_test_model(options);
}

TEST(EncoderIdentity, HashAndPreprocessingFromTheGgufHeader) {
    TempDir dir("identity");
    const auto gemma = make(Arch::Gemma3, dir);
    const auto identity = encoder_identity(gemma.mmproj, FeatureKind::ProjectedMean);
    EXPECT_EQ(identity.mmproj_sha256, dermlens::sha256_file(gemma.mmproj));
    EXPECT_EQ(identity.kind, FeatureKind::ProjectedMean);
    EXPECT_EQ(identity.preprocessing, "gemma3;224px;mean=0.5,0.5,0.5;std=0.5,0.5,0.5;layer=post-ln");

    const auto qwen = encoder_identity(make(Arch::Qwen2VL, dir).mmproj, FeatureKind::EncoderMean);
    EXPECT_THAT(qwen.preprocessing, HasSubstr("qwen2.5vl_merger;"));
    EXPECT_THAT(qwen.preprocessing, HasSubstr(";layer=block-3"));
    const auto llava = encoder_identity(make(Arch::Llava, dir).mmproj, FeatureKind::EncoderMean);
    EXPECT_THAT(llava.preprocessing, HasSubstr("mlp;56px;"));
    EXPECT_THAT(llava.preprocessing, HasSubstr(";layer=block-0"));
    for (const auto & text : {identity.preprocessing, qwen.preprocessing, llava.preprocessing}) {
        EXPECT_TRUE(std::none_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); })) << text;
    }
}

TEST(EncoderIdentity, OtherWeightsAreAnotherEncoder) {
    TempDir dir("identity");
    const auto a = encoder_identity(make(Arch::Gemma3, dir, 0).mmproj, FeatureKind::EncoderMean);
    const auto b = encoder_identity(make(Arch::Gemma3, dir, 1).mmproj, FeatureKind::EncoderMean);
    EXPECT_EQ(a.preprocessing, b.preprocessing);
    EXPECT_NE(a.mmproj_sha256, b.mmproj_sha256);
    EXPECT_NE(a.key(), b.key());
}

TEST(EncoderIdentity, ATextModelIsNotAProjector) {
    TempDir dir("identity");
    const auto files = make(Arch::Gemma3, dir);
    try {
        encoder_identity(files.model, FeatureKind::EncoderMean);
        FAIL() << "expected an error";
    } catch (const dermlens::Error & e) {
        EXPECT_EQ(e.kind(), dermlens::ErrorKind::InvalidModel);
        EXPECT_THAT(e.what(), HasSubstr(files.model.string()));
    }
}

}  // namespace
