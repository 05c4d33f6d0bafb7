// Pre-validation of GGUF model files before they reach llama.cpp.
//
// llama.cpp's loaders may abort or assert on malformed input, so every file is
// checked here first: it exists, starts with the GGUF magic, its header parses,
// the file is long enough to hold every tensor's data, its architecture is one
// dermlens supports, and the mmproj's projection output matches the text
// model's embedding width. Failures throw Error(InvalidModel) naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace dermlens::model {

struct TextModelInfo {
    std::string architecture;      // general.architecture, e.g. "gemma3"
    std::int64_t embedding_length; // <arch>.embedding_length
};

struct ProjectorInfo {
    std::string projector_type; // clip.projector_type, e.g. "gemma3", "mlp"
    std::int64_t output_dim;    // width of the embeddings the projector feeds the text model
};

TextModelInfo check_text_model(const std::filesystem::path & model_path);
ProjectorInfo check_projector(const std::filesystem::path & mmproj_path);

// Both checks above, then that the projector's output width equals the text model's embedding width.
void check_model_pair(const std::filesystem::path & model_path, const std::filesystem::path & mmproj_path);

}  // namespace dermlens::model
