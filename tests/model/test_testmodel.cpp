// The random-weight test models must be deterministic, small, and accepted by
// llama.cpp exactly like released checkpoints: libllama loads the text model,
// prompts tokenize with the real vocabulary, mtmd encodes an image with the
// projector, and decoding yields finite logits.
#include "model/testmodel.h"
#include "model/testmodel_writer.h"
#include "llama_test_support.h"

#include "dermlens/error.h"

#include "llama.h"
#include "mtmd-helper.h"
#include "mtmd.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <ostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace dermlens::testmodel {
namespace {

namespace fs = std::filesystem;

using namespace dermlens::testing_support;

[[maybe_unused]] ::testing::Environment * const kQuietLlama = ::testing::AddGlobalTestEnvironment(new QuietLlama);

struct ArchCase {
    Arch arch;
    const char * gguf_arch;
    int n_embd;
    int n_vocab;
    std::size_t image_tokens;
    const char * turn_marker;  // what the chat template puts before the user's message
};

void PrintTo(const ArchCase & arch_case, std::ostream * out) { *out << arch_name(arch_case.arch); }

const ArchCase kGemma3{Arch::Gemma3, "gemma3", 64, 32004, 16, "<start_of_turn>user\n"};
const ArchCase kLlava{Arch::Llava, "llama", 32, 32000, 16, "USER: "};

class TestModelTest : public ::testing::TestWithParam<ArchCase> {
protected:
    static void SetUpTestSuite() {
        root_ = fs::temp_directory_path() / ("dermlens-test-testmodel-" + std::to_string(::getpid()));
    }
    static void TearDownTestSuite() {
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }

    // Generated once per (arch, seed, text type) and shared by the tests.
    static const Files & files(Arch arch, std::uint64_t seed, const std::string & text_type = "f16") {
        const std::string key = std::string(arch_name(arch)) + "-" + std::to_string(seed) + "-" + text_type;
        auto found = cache_.find(key);
        if (found == cache_.end()) {
            Options options;
            options.arch = arch;
            options.seed = seed;
            options.text_type = text_type;
            options.out_dir = root_ / key;
            found = cache_.emplace(key, make_test_model(options)).first;
        }
        return found->second;
    }

    static inline fs::path root_;
    static inline std::map<std::string, Files> cache_;
};

TEST_P(TestModelTest, SameSeedGivesIdenticalFilesAndAnotherSeedDifferentOnes) {
    const Files & first = files(GetParam().arch, 7);
    Options repeat;
    repeat.arch = GetParam().arch;
    repeat.seed = 7;
    repeat.out_dir = root_ / (std::string(arch_name(GetParam().arch)) + "-repeat");
    const Files repeated = make_test_model(repeat);
    const Files & other = files(GetParam().arch, 8);

    EXPECT_EQ(read_bytes(first.model), read_bytes(repeated.model));
    EXPECT_EQ(read_bytes(first.mmproj), read_bytes(repeated.mmproj));
    EXPECT_NE(read_bytes(first.model), read_bytes(other.model));
    EXPECT_NE(read_bytes(first.mmproj), read_bytes(other.mmproj));
}

TEST_P(TestModelTest, FilesAreSmall) {
    const Files & generated = files(GetParam().arch, 7);
    EXPECT_LT(fs::file_size(generated.model), 8u << 20);
    EXPECT_LT(fs::file_size(generated.mmproj), 8u << 20);
}

TEST_P(TestModelTest, LibllamaLoadsTheTextModelWithExpectedShape) {
    const ModelPtr model = load_model(files(GetParam().arch, 7).model);
    ASSERT_NE(model, nullptr);
    char arch[64] = {};
    ASSERT_GT(llama_model_meta_val_str(model.get(), "general.architecture", arch, sizeof(arch)), 0);
    EXPECT_STREQ(arch, GetParam().gguf_arch);
    EXPECT_EQ(llama_model_n_embd(model.get()), GetParam().n_embd);
    EXPECT_EQ(llama_vocab_n_tokens(llama_model_get_vocab(model.get())), GetParam().n_vocab);
}

TEST_P(TestModelTest, PromptsTokenizeAsWithTheOriginalVocabulary) {
    const ModelPtr model = load_model(files(GetParam().arch, 7).model, true);
    const ModelPtr original = load_model(vocab_dir() / "ggml-vocab-llama-spm.gguf", true);
    ASSERT_NE(model, nullptr);
    ASSERT_NE(original, nullptr);
    const std::string prompt = "Is this lesion a melanoma or a benign nevus?";
    const auto tokens = tokenize(model.get(), prompt, true);
    EXPECT_GT(tokens.size(), 5u);
    EXPECT_EQ(tokens, tokenize(original.get(), prompt, true));
    EXPECT_EQ(tokenize(model.get(), "melanoma", false), tokenize(original.get(), "melanoma", false));
}

TEST_P(TestModelTest, ChatTemplateIsRecognisedByLibllama) {
    const ModelPtr model = load_model(files(GetParam().arch, 7).model, true);
    ASSERT_NE(model, nullptr);
    const char * chat_template = llama_model_chat_template(model.get(), nullptr);
    ASSERT_NE(chat_template, nullptr);
    const llama_chat_message message{"user", "Describe the lesion."};
    std::vector<char> out(1024);
    const int n = llama_chat_apply_template(chat_template, &message, 1, true, out.data(), static_cast<int32_t>(out.size()));
    ASSERT_GT(n, 0);
    EXPECT_NE(std::string(out.data(), static_cast<std::size_t>(n)).find(GetParam().turn_marker), std::string::npos);
}

TEST_P(TestModelTest, MtmdEncodesAnImageAndDecodingGivesFiniteLogits) {
    const Files & generated = files(GetParam().arch, 7);
    const ModelPtr model = load_model(generated.model);
    ASSERT_NE(model, nullptr);
    mtmd_context_params mtmd_params = mtmd_context_params_default();
    mtmd_params.use_gpu = false;
    mtmd_params.print_timings = false;
    mtmd_params.n_threads = 1;
    mtmd_params.warmup = false;
    const MtmdPtr vision(
        mtmd_init_from_file(generated.mmproj.c_str(), model.get(), mtmd_params));
    ASSERT_NE(vision, nullptr);

    const auto bitmap = gradient_bitmap(64, 48);
    const mtmd_bitmap * bitmaps[] = {bitmap.get()};
    const std::string prompt = std::string(mtmd_default_marker()) + "Describe the lesion.";
    const mtmd_input_text text{prompt.c_str(), prompt.size(), true, true};
    const ChunksPtr chunks(mtmd_input_chunks_init());
    ASSERT_EQ(mtmd_tokenize(vision.get(), chunks.get(), &text, bitmaps, 1), 0);
    std::size_t image_tokens = 0;
    for (std::size_t i = 0; i < mtmd_input_chunks_size(chunks.get()); ++i) {
        const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks.get(), i);
        if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
            image_tokens += mtmd_input_chunk_get_n_tokens(chunk);
        }
    }
    EXPECT_EQ(image_tokens, GetParam().image_tokens);

    llama_context_params context_params = llama_context_default_params();
    context_params.n_ctx = 256;
    context_params.n_batch = 64;
    context_params.n_threads = 1;
    const ContextPtr context(llama_init_from_model(model.get(), context_params));
    ASSERT_NE(context, nullptr);
    llama_pos n_past = 0;
    ASSERT_EQ(mtmd_helper_eval_chunks(vision.get(), context.get(), chunks.get(), 0, 0, 64, true, &n_past), 0);
    const int n_vocab = GetParam().n_vocab;
    const float * logits = llama_get_logits_ith(context.get(), -1);
    ASSERT_NE(logits, nullptr);
    EXPECT_TRUE(all_finite(logits, n_vocab));

    // Greedy decoding keeps the logits finite and does not lock onto one token.
    std::set<llama_token> greedy_tokens;
    for (int step = 0; step < 8; ++step) {
        llama_token next = static_cast<llama_token>(std::max_element(logits, logits + n_vocab) - logits);
        greedy_tokens.insert(next);
        llama_batch batch = llama_batch_get_one(&next, 1);
        ASSERT_EQ(llama_decode(context.get(), batch), 0);
        logits = llama_get_logits_ith(context.get(), -1);
        ASSERT_TRUE(all_finite(logits, n_vocab)) << "step " << step;
    }
    EXPECT_GT(greedy_tokens.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Arch, TestModelTest, ::testing::Values(kGemma3, kLlava),
                         [](const ::testing::TestParamInfo<ArchCase> & param_info) {
                             return std::string(arch_name(param_info.param.arch));
                         });

TEST(TestModelGemma3, ControlTokensAreSingleTokens) {
    const fs::path dir = fs::temp_directory_path() / ("dermlens-test-testmodel-control-" + std::to_string(::getpid()));
    Options options;
    options.out_dir = dir;
    const Files generated = make_test_model(options);
    const ModelPtr model = load_model(generated.model, true);
    ASSERT_NE(model, nullptr);
    for (const char * marker : {"<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>"}) {
        EXPECT_EQ(tokenize(model.get(), marker, true).size(), 1u) << marker;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model.get());
    EXPECT_TRUE(llama_vocab_is_eog(vocab, tokenize(model.get(), "<end_of_turn>", true).at(0)));
    fs::remove_all(dir);
}

TEST(TestModelGemma3, Q4KMQuantizesTheTextModelWithLibllama) {
    const fs::path dir = fs::temp_directory_path() / ("dermlens-test-testmodel-q4-" + std::to_string(::getpid()));
    Options options;
    options.text_type = "q4_k_m";
    options.out_dir = dir;
    const Files generated = make_test_model(options);
    const ModelPtr model = load_model(generated.model);
    ASSERT_NE(model, nullptr);
    char description[128] = {};
    llama_model_desc(model.get(), description, sizeof(description));
    EXPECT_NE(std::string(description).find("Q4_K - Medium"), std::string::npos) << description;
    EXPECT_FALSE(fs::exists(dir / ".f16-staging"));
    fs::remove_all(dir);
}

Options valid_options() {
    Options options;
    options.out_dir = "/tmp/unused";
    return options;
}

void expect_invalid(const Options & options, const std::string & fragment) {
    try {
        options.validate();
        ADD_FAILURE() << "expected an error mentioning " << fragment;
    } catch (const Error & error) {
        EXPECT_EQ(error.kind(), ErrorKind::InvalidArgument);
        EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
    }
}

TEST(TestModelOptions, AcceptsEveryArchWithTinyAndRealPresetsWithTheirArch) {
    Options options = valid_options();
    for (const Arch arch : {Arch::Gemma3, Arch::Llava, Arch::Qwen2VL}) {
        options.arch = arch;
        EXPECT_NO_THROW(options.validate());
    }
    options.arch = Arch::Gemma3;
    options.preset = "gemma3-4b";
    options.text_type = "q4_k_m";
    options.mmproj_type = "q8_0";
    EXPECT_NO_THROW(options.validate());
    options.arch = Arch::Qwen2VL;
    options.preset = "qwen2.5-vl-7b";
    EXPECT_NO_THROW(options.validate());
}

TEST(TestModelOptions, RejectsBadValuesNamingTheOption) {
    Options options = valid_options();
    options.out_dir.clear();
    expect_invalid(options, "out_dir: an output folder is required");

    options = valid_options();
    options.preset = "huge";
    expect_invalid(options, "preset 'huge'");

    options = valid_options();
    options.arch = Arch::Llava;
    options.preset = "gemma3-4b";
    expect_invalid(options, "arch gemma3");

    options = valid_options();
    options.text_type = "q3_k";
    expect_invalid(options, "text_type 'q3_k'");

    options = valid_options();
    options.mmproj_type = "q4_k_m";
    expect_invalid(options, "mmproj_type 'q4_k_m'");
}

TEST(TestModelOptions, ParsesArchNamesAndListsTheValidOnes) {
    EXPECT_EQ(parse_arch("gemma3"), Arch::Gemma3);
    EXPECT_EQ(parse_arch("llava"), Arch::Llava);
    EXPECT_EQ(parse_arch("qwen2vl"), Arch::Qwen2VL);
    EXPECT_EQ(arch_name(Arch::Llava), "llava");
    try {
        parse_arch("gemma");
        ADD_FAILURE() << "expected an error";
    } catch (const Error & error) {
        EXPECT_NE(std::string(error.what()).find("gemma3, qwen2vl, llava"), std::string::npos) << error.what();
    }
}

TEST(TestModelVocab, MissingVocabFolderIsAClearError) {
    ::setenv("DERMLENS_VOCAB_DIR", "/nonexistent-vocab-dir", 1);
    Options options = valid_options();
    options.out_dir = fs::temp_directory_path() / ("dermlens-test-testmodel-novocab-" + std::to_string(::getpid()));
    try {
        make_test_model(options);
        ADD_FAILURE() << "expected an error";
    } catch (const Error & error) {
        EXPECT_EQ(error.kind(), ErrorKind::InvalidModel);
        EXPECT_NE(std::string(error.what()).find("/nonexistent-vocab-dir/ggml-vocab-llama-spm.gguf"), std::string::npos)
            << error.what();
    }
    ::unsetenv("DERMLENS_VOCAB_DIR");
    fs::remove_all(options.out_dir);
}

}  // namespace
}  // namespace dermlens::testmodel
