// What the Engine tests share: one generated tiny Gemma 3 model pair (random weights, a real
// tokenizer) for the whole test binary, and a real dermoscopic image of the shared data.
#pragma once

#include "model/testmodel.h"
#include "support/temp_dir.h"

#include <filesystem>
#include <memory>

namespace dermlens::test {

struct TinyModel {
    TempDir dir{"engine-model"};
    testmodel::Files files;

    TinyModel() {
        testmodel::Options options;
        options.out_dir = dir / "gemma3";
        files = testmodel::make_test_model(options);
    }

    static const TinyModel & shared() {
        static const TinyModel model;
        return model;
    }
};

inline std::filesystem::path shared_lesion() {
    return std::filesystem::path(DERMLENS_SHARED_DIR) / "data" / "images" / "isic9class" / "melanoma" /
           "ISIC_0000002.jpg";
}

}  // namespace dermlens::test
