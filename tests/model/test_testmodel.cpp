// The random-weight test models must be deterministic, small, and accepted by
// llama.cpp exactly like released checkpoints: libllama loads the text model,
// prompts tokenize with the real vocabulary, mtmd encodes an image with the
// projector, and decoding yields finite logits.
#include "model/testmodel.h"
#include "model/testmodel_writer.h"

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

void quiet_log(ggml_log_level, const char *, void *) {}

// llama.cpp logs every load at length; the tests only need their own failures.
class QuietLlama : public ::testing::Environment {
public:
    void SetUp() override {
        llama_backend_init();
        llama_log_set(quiet_log, nullptr);
        mtmd_helper_log_set(quiet_log, nullptr);
    }
};
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

struct ModelDeleter {
    void operator()(llama_model * model) const { llama_model_free(model); }
};
struct ContextDeleter {
    void operator()(llama_context * context) const { llama_free(context); }
};
struct MtmdDeleter {
    void operator()(mtmd_context * context) const { mtmd_free(context); }
};
struct ChunksDeleter {
    void operator()(mtmd_input_chunks * chunks) const { mtmd_input_chunks_free(chunks); }
};
struct BitmapDeleter {
    void operator()(mtmd_bitmap * bitmap) const { mtmd_bitmap_free(bitmap); }
};
using ModelPtr = std::unique_ptr<llama_model, ModelDeleter>;

std::string read_bytes(const fs::path & path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

ModelPtr load_model(const fs::path & path, bool vocab_only = false) {
    llama_model_params params = llama_model_default_params();
    params.vocab_only = vocab_only;
    return ModelPtr(llama_model_load_from_file(path.c_str(), params));
}

std::vector<llama_token> tokenize(const llama_model * model, const std::string & text, bool parse_special) {
    const llama_vocab * vocab = llama_model_get_vocab(model);
    std::vector<llama_token> tokens(text.size() + 8);
    const int n = llama_tokenize(vocab, text.c_str(), static_cast<int32_t>(text.size()), tokens.data(),
                                 static_cast<int32_t>(tokens.size()), false, parse_special);
    tokens.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return tokens;
}

// A 64x48 RGB gradient: no image files needed.
std::unique_ptr<mtmd_bitmap, BitmapDeleter> gradient_bitmap() {
    constexpr std::uint32_t width = 64;
    constexpr std::uint32_t height = 48;
    std::vector<unsigned char> pixels(width * height * 3);
    for (std::uint32_t y = 0; y < height; ++y) {
        for (std::uint32_t x = 0; x < width; ++x) {
            unsigned char * pixel = &pixels[(y * width + x) * 3];
            pixel[0] = static_cast<unsigned char>(x * 4);
            pixel[1] = static_cast<unsigned char>(y * 5);
            pixel[2] = static_cast<unsigned char>((x + y) * 2);
        }
    }
    return std::unique_ptr<mtmd_bitmap, BitmapDeleter>(mtmd_bitmap_init(width, height, pixels.data()));
}

bool all_finite(const float * values, int n) {
    for (int i = 0; i < n; ++i) {
        if (!std::isfinite(values[i])) {
            return false;
        }
    }
    return true;
}

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
    mtmd_params.n_threads = 2;
    mtmd_params.warmup = false;
    const std::unique_ptr<mtmd_context, MtmdDeleter> vision(
        mtmd_init_from_file(generated.mmproj.c_str(), model.get(), mtmd_params));
    ASSERT_NE(vision, nullptr);

    const auto bitmap = gradient_bitmap();
    const mtmd_bitmap * bitmaps[] = {bitmap.get()};
    const std::string prompt = std::string(mtmd_default_marker()) + "Describe the lesion.";
    const mtmd_input_text text{prompt.c_str(), prompt.size(), true, true};
    const std::unique_ptr<mtmd_input_chunks, ChunksDeleter> chunks(mtmd_input_chunks_init());
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
    context_params.n_threads = 2;
    const std::unique_ptr<llama_context, ContextDeleter> context(llama_init_from_model(model.get(), context_params));
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
    expect_invalid(options, "--out");

    options = valid_options();
    options.preset = "huge";
    expect_invalid(options, "--preset 'huge'");

    options = valid_options();
    options.arch = Arch::Llava;
    options.preset = "gemma3-4b";
    expect_invalid(options, "--arch gemma3");

    options = valid_options();
    options.text_type = "q3_k";
    expect_invalid(options, "--type 'q3_k'");

    options = valid_options();
    options.mmproj_type = "q4_k_m";
    expect_invalid(options, "--mmproj-type 'q4_k_m'");
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
