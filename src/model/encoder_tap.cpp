#include "model/encoder_tap.h"

#include "dermlens/error.h"

#include <fmt/format.h>

namespace dermlens::model {
namespace {

[[noreturn]] void fail(const std::filesystem::path & path, const std::string & reason) {
    throw Error(ErrorKind::InvalidModel, fmt::format("mmproj '{}': {}", path.string(), reason));
}

EncoderTap post_norm(const ProjectorInfo & projector) {
    return {projector.post_norm_has_bias ? "norm_b" : "norm_w", "post-ln", projector.encoder_width};
}

EncoderTap block_output(const ProjectorInfo & projector, std::int64_t block) {
    return {fmt::format("layer_out-{}", block), fmt::format("block-{}", block), projector.encoder_width};
}

}  // namespace

EncoderTap encoder_tap(const ProjectorInfo & projector, const std::filesystem::path & mmproj_path) {
    if (projector.encoder_width <= 0) {
        fail(mmproj_path, "missing or invalid clip.vision.embedding_length");
    }
    if (projector.encoder_layers <= 0) {
        fail(mmproj_path, "missing or invalid clip.vision.block_count");
    }
    const std::string & type = projector.projector_type;
    if (type == "gemma3") {
        return projector.has_post_norm ? post_norm(projector) : block_output(projector, projector.encoder_layers - 1);
    }
    if (type == "qwen2vl_merger" || type == "qwen2.5vl_merger") {
        return block_output(projector, projector.encoder_layers - 1);
    }
    if (type == "mlp") {
        if (projector.has_feature_layers) {
            fail(mmproj_path, "its encoder output stacks several layers (clip.vision.feature_layer); "
                              "dermlens reads a single last hidden state");
        }
        if (projector.has_post_norm) {
            return post_norm(projector);
        }
        if (projector.encoder_layers < 2) {
            fail(mmproj_path, "a LLaVA encoder needs at least 2 blocks (libmtmd skips the last one)");
        }
        return block_output(projector, projector.encoder_layers - 2);
    }
    fail(mmproj_path, fmt::format("no known encoder output for projector type '{}'", type));
}

}  // namespace dermlens::model
