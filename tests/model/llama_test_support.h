// Helpers the test-model tests share: quiet llama.cpp logs, owning pointers
// for llama/mtmd handles, and small load/tokenize/image utilities.
#pragma once

#include "model/llama_handles.h"

#include "llama.h"
#include "mtmd-helper.h"
#include "mtmd.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace dermlens::testing_support {

inline void quiet_log(ggml_log_level, const char *, void *) {}

// llama.cpp logs every load at length; the tests only need their own failures.
class QuietLlama : public ::testing::Environment {
public:
    void SetUp() override {
        llama_backend_init();
        llama_log_set(quiet_log, nullptr);
        mtmd_helper_log_set(quiet_log, nullptr);
    }
};

using namespace dermlens::model;  // the owning handle types

inline std::string read_bytes(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline ModelPtr load_model(const std::filesystem::path & path, bool vocab_only = false) {
    llama_model_params params = llama_model_default_params();
    params.vocab_only = vocab_only;
    return ModelPtr(llama_model_load_from_file(path.c_str(), params));
}

inline std::vector<llama_token> tokenize(const llama_model * model, const std::string & text, bool parse_special) {
    const llama_vocab * vocab = llama_model_get_vocab(model);
    std::vector<llama_token> tokens(text.size() + 8);
    const int n = llama_tokenize(vocab, text.c_str(), static_cast<int32_t>(text.size()), tokens.data(),
                                 static_cast<int32_t>(tokens.size()), false, parse_special);
    tokens.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return tokens;
}

// An RGB gradient of the given size: no image files needed.
inline BitmapPtr gradient_bitmap(std::uint32_t width, std::uint32_t height) {
    std::vector<unsigned char> pixels(static_cast<std::size_t>(width) * height * 3);
    for (std::uint32_t y = 0; y < height; ++y) {
        for (std::uint32_t x = 0; x < width; ++x) {
            unsigned char * pixel = &pixels[(static_cast<std::size_t>(y) * width + x) * 3];
            pixel[0] = static_cast<unsigned char>(x * 4);
            pixel[1] = static_cast<unsigned char>(y * 5);
            pixel[2] = static_cast<unsigned char>((x + y) * 2);
        }
    }
    return BitmapPtr(mtmd_bitmap_init(width, height, pixels.data()));
}

inline bool all_finite(const float * values, int n) {
    return std::all_of(values, values + n, [](float value) { return std::isfinite(value); });
}

}  // namespace dermlens::testing_support
