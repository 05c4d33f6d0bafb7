// Pre-validation of GGUF model files before they reach llama.cpp.
//
// llama.cpp's loaders may abort or assert on malformed input, so every file is
// checked here first: it exists, starts with the GGUF magic, lists at most 16384
// tensors and 16384 keys, its header parses, every tensor's shape and offset fit
// in 64 bits and its data lies inside the file, its architecture is one
// dermlens supports, and the mmproj's projection output matches the text
// model's embedding width. Failures throw Error(InvalidModel) naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dermlens::model {

struct TextModelInfo {
    std::string architecture;      // general.architecture, e.g. "gemma3"
    std::int64_t embedding_length; // <arch>.embedding_length
    std::int64_t attention_heads = 0;  // <arch>.attention.head_count (0 where the file does not say)
    std::int64_t kv_heads = 0;         // <arch>.attention.head_count_kv (a per-layer array: the heads)
    std::int64_t head_dim = 0;         // <arch>.attention.key_length, else embedding_length / heads
};

struct ProjectorInfo {
    std::string projector_type; // clip.projector_type, e.g. "gemma3", "mlp"
    std::int64_t output_dim;    // width of the embeddings the projector feeds the text model

    // The vision encoder in front of the projector (0 / empty where the file does not say).
    std::int64_t encoder_width = 0;   // clip.vision.embedding_length
    std::int64_t encoder_layers = 0;  // clip.vision.block_count
    std::int64_t encoder_heads = 0;   // clip.vision.attention.head_count
    std::int64_t image_size = 0;      // clip.vision.image_size (side in pixels)
    std::int64_t patch_size = 0;      // clip.vision.patch_size
    std::int64_t min_pixels = 0;      // clip.vision.image_min_pixels (dynamic-resolution encoders)
    std::int64_t max_pixels = 0;      // clip.vision.image_max_pixels
    std::vector<float> image_mean;    // clip.vision.image_mean, per channel
    std::vector<float> image_std;     // clip.vision.image_std, per channel
    bool has_post_norm = false;       // v.post_ln.weight is present
    bool post_norm_has_bias = false;  // v.post_ln.bias is present
    bool has_feature_layers = false;  // clip.vision.feature_layer: several encoder layers stacked (Granite)
};

TextModelInfo check_text_model(const std::filesystem::path & model_path);
ProjectorInfo check_projector(const std::filesystem::path & mmproj_path);

// Both checks above, then that the projector's output width equals the text model's embedding width.
// Returns the projector's description.
ProjectorInfo check_model_pair(const std::filesystem::path & model_path, const std::filesystem::path & mmproj_path);

}  // namespace dermlens::model
