// GGUF pre-validation: every bad file is refused with Error(InvalidModel) naming
// the file and the reason, before llama.cpp's loaders see it.
#include "dermlens/error.h"
#include "model/gguf_check.h"
#include "model/testmodel.h"

#include <gguf.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using dermlens::testmodel::Arch;

class GgufCheck : public testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("dermlens_gguf_check_" + std::to_string(::getpid()));
        gemma3_ = make(Arch::Gemma3);
        qwen2vl_ = make(Arch::Qwen2VL);
    }
    static void TearDownTestSuite() { fs::remove_all(dir_); }

    static dermlens::testmodel::Files make(Arch arch) {
        dermlens::testmodel::Options options;
        options.arch = arch;
        options.out_dir = dir_ / std::string(dermlens::testmodel::arch_name(arch));
        return dermlens::testmodel::make_test_model(options);
    }

    // A header-only GGUF whose general.architecture is `arch`.
    static fs::path gguf_with_arch(const std::string & arch) {
        const fs::path path = dir_ / (arch + ".gguf");
        gguf_context * ctx = gguf_init_empty();
        gguf_set_val_str(ctx, "general.architecture", arch.c_str());
        gguf_set_val_u32(ctx, (arch + ".embedding_length").c_str(), 64);
        gguf_write_to_file(ctx, path.c_str(), false);
        gguf_free(ctx);
        return path;
    }

    static fs::path copy_prefix(const fs::path & source, std::uintmax_t bytes, const std::string & name) {
        const fs::path path = dir_ / name;
        fs::copy_file(source, path, fs::copy_options::overwrite_existing);
        fs::resize_file(path, bytes);
        return path;
    }

    static inline fs::path dir_;
    static inline dermlens::testmodel::Files gemma3_;
    static inline dermlens::testmodel::Files qwen2vl_;
};

// Runs `check`, expecting InvalidModel with every fragment in its message.
template <typename Check>
void expect_refused(Check check, std::initializer_list<std::string> fragments) {
    try {
        check();
        FAIL() << "expected Error(InvalidModel)";
    } catch (const dermlens::Error & e) {
        EXPECT_EQ(e.kind(), dermlens::ErrorKind::InvalidModel);
        for (const auto & fragment : fragments) {
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what() << "\nlacks: " << fragment;
        }
    }
}

TEST_F(GgufCheck, AcceptsMatchingPairs) {
    EXPECT_NO_THROW(dermlens::model::check_model_pair(gemma3_.model, gemma3_.mmproj));
    EXPECT_NO_THROW(dermlens::model::check_model_pair(qwen2vl_.model, qwen2vl_.mmproj));
    EXPECT_EQ(dermlens::model::check_text_model(gemma3_.model).architecture, "gemma3");
    EXPECT_EQ(dermlens::model::check_projector(gemma3_.mmproj).projector_type, "gemma3");
}

TEST_F(GgufCheck, MissingFile) {
    const fs::path missing = dir_ / "absent.gguf";
    expect_refused([&] { dermlens::model::check_text_model(missing); }, {missing.string(), "not found"});
}

TEST_F(GgufCheck, NotGguf) {
    const fs::path text = dir_ / "notes.gguf";
    std::ofstream(text) << "this is not a model\n";
    expect_refused([&] { dermlens::model::check_text_model(text); }, {text.string(), "not a GGUF"});
    const fs::path tiny = dir_ / "two_bytes.gguf";
    std::ofstream(tiny) << "GG";
    expect_refused([&] { dermlens::model::check_projector(tiny); }, {tiny.string(), "not a GGUF"});
}

TEST_F(GgufCheck, TruncatedData) {
    const auto size = fs::file_size(gemma3_.model);
    const fs::path cut = copy_prefix(gemma3_.model, size - 1000, "cut_data.gguf");
    expect_refused([&] { dermlens::model::check_text_model(cut); }, {cut.string(), "truncated"});
}

TEST_F(GgufCheck, TruncatedHeader) {
    const fs::path cut = copy_prefix(gemma3_.mmproj, 200, "cut_header.gguf");
    expect_refused([&] { dermlens::model::check_projector(cut); }, {cut.string(), "truncated"});
}

TEST_F(GgufCheck, MismatchedProjector) {
    expect_refused([&] { dermlens::model::check_model_pair(gemma3_.model, qwen2vl_.mmproj); },
                   {qwen2vl_.mmproj.string(), "does not belong", gemma3_.model.string(), "32", "64"});
}

TEST_F(GgufCheck, UnsupportedArchitecture) {
    const fs::path bert = gguf_with_arch("bert");
    expect_refused([&] { dermlens::model::check_text_model(bert); }, {bert.string(), "unsupported architecture 'bert'"});
}

TEST_F(GgufCheck, FilesSwapped) {
    expect_refused([&] { dermlens::model::check_text_model(gemma3_.mmproj); },
                   {gemma3_.mmproj.string(), "vision projector"});
    expect_refused([&] { dermlens::model::check_projector(gemma3_.model); },
                   {gemma3_.model.string(), "not a vision projector", "gemma3"});
}

}  // namespace
