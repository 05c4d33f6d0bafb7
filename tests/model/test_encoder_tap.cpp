// encoder_tap: the vision-graph tensor read as the encoder's last hidden state, per projector type.
#include "dermlens/error.h"
#include "model/encoder_tap.h"
#include "support/expect_error.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using dermlens::model::encoder_tap;
using dermlens::model::ProjectorInfo;

ProjectorInfo projector(const std::string & type, std::int64_t layers, bool post_norm, bool bias) {
    ProjectorInfo info;
    info.projector_type = type;
    info.output_dim = 2560;
    info.encoder_width = 1152;
    info.encoder_layers = layers;
    info.has_post_norm = post_norm;
    info.post_norm_has_bias = bias;
    return info;
}

TEST(EncoderTap, Gemma3ReadsThePostLayernorm) {
    const auto tap = encoder_tap(projector("gemma3", 27, true, true), "p.gguf");
    EXPECT_EQ(tap.tensor_name, "norm_b");
    EXPECT_EQ(tap.layer, "post-ln");
    EXPECT_EQ(tap.width, 1152);
    EXPECT_EQ(encoder_tap(projector("gemma3", 27, true, false), "p.gguf").tensor_name, "norm_w");
    EXPECT_EQ(encoder_tap(projector("gemma3", 27, false, false), "p.gguf").tensor_name, "layer_out-26");
}

TEST(EncoderTap, QwenReadsTheLastBlockBeforeTheMergerNorm) {
    // v.post_ln is the merger's ln_q: part of the projector, so the last block's output is read.
    for (const char * type : {"qwen2vl_merger", "qwen2.5vl_merger"}) {
        const auto tap = encoder_tap(projector(type, 32, true, false), "p.gguf");
        EXPECT_EQ(tap.tensor_name, "layer_out-31") << type;
        EXPECT_EQ(tap.layer, "block-31") << type;
    }
}

TEST(EncoderTap, LlavaReadsThePenultimateBlock) {
    const auto tap = encoder_tap(projector("mlp", 24, false, false), "p.gguf");
    EXPECT_EQ(tap.tensor_name, "layer_out-22");
    EXPECT_EQ(tap.layer, "block-22");
    EXPECT_EQ(encoder_tap(projector("mlp", 24, true, true), "p.gguf").tensor_name, "norm_b");
}

TEST(EncoderTap, UnreadableLayoutsAreRefusedNamingTheFile) {
    auto expect_refused = [](const ProjectorInfo & info, const std::string & needle) {
        dermlens::test::expect_error([&] { encoder_tap(info, "odd.gguf"); }, dermlens::ErrorKind::InvalidModel,
                                     {"odd.gguf", needle});
    };
    ProjectorInfo stacked = projector("mlp", 24, false, false);
    stacked.has_feature_layers = true;
    expect_refused(stacked, "feature_layer");
    expect_refused(projector("mlp", 1, false, false), "at least 2 blocks");
    expect_refused(projector("ldp", 24, false, false), "ldp");
    ProjectorInfo widthless = projector("gemma3", 27, true, true);
    widthless.encoder_width = 0;
    expect_refused(widthless, "embedding_length");
}

}  // namespace
