// Random-weight test models: a tiny (a few MB) or real-size GGUF pair
// (model.gguf + mmproj.gguf) per architecture that llama.cpp's loaders accept
// unchanged, with a real tokenizer vocabulary so prompts tokenize as in the
// released models. Deterministic from the seed. Used by `dermlens dev
// make-test-model`, the demo and the test suite (no weights can be downloaded).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace dermlens::testmodel {

enum class Arch { Gemma3, Qwen2VL, Llava };

struct Options {
    Arch arch = Arch::Gemma3;
    std::string preset = "tiny";        // "tiny", "gemma3-4b", "qwen2.5-vl-7b"
    std::uint64_t seed = 0;
    std::string text_type = "f16";      // tensor type of the text model: f32, f16, q8_0, q4_k_m
    std::string mmproj_type = "f16";    // tensor type of the projector: f32, f16, q8_0
    std::filesystem::path out_dir;
    void validate() const;              // throws dermlens::Error(InvalidArgument, ...)
};

struct Files {
    std::filesystem::path model;
    std::filesystem::path mmproj;
};

// Writes out_dir/model.gguf and out_dir/mmproj.gguf (creating out_dir).
Files make_test_model(const Options & options);

Arch parse_arch(std::string_view name);  // "gemma3" | "qwen2vl" | "llava", throws with the valid names
std::string_view arch_name(Arch arch);

}  // namespace dermlens::testmodel
