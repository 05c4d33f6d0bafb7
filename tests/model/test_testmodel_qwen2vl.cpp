// The Qwen2.5-VL test model must be deterministic, small and accepted by
// llama.cpp like a released checkpoint: libllama loads the qwen2vl (M-RoPE)
// text model with the real Qwen2 vocabulary, mtmd encodes images at their own
// aspect ratio (one token per 2x2 merged 14-px patches), decoding yields
// finite logits, and the real-size preset has Qwen2.5-VL-7B's shapes.
#include "model/testmodel.h"
#include "model/testmodel_writer.h"
#include "llama_test_support.h"

#include "gguf.h"
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
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace dermlens::testmodel {
namespace {

namespace fs = std::filesystem;

constexpr int kTinyEmbd = 32;
constexpr const char * kVocabFile = "ggml-vocab-qwen2.gguf";

using namespace dermlens::testing_support;

[[maybe_unused]] ::testing::Environment * const kQuietLlama = ::testing::AddGlobalTestEnvironment(new QuietLlama);

GgufPtr read_metadata(const fs::path & path) {
    gguf_init_params params{};
    params.no_alloc = true;
    params.ctx = nullptr;
    return GgufPtr(gguf_init_from_file(path.c_str(), params));
}

const mtmd_input_chunk * only_image_chunk(const mtmd_input_chunks * chunks) {
    const mtmd_input_chunk * image = nullptr;
    for (std::size_t i = 0; i < mtmd_input_chunks_size(chunks); ++i) {
        const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, i);
        if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
            EXPECT_EQ(image, nullptr) << "more than one image chunk";
            image = chunk;
        }
    }
    return image;
}

std::int64_t tensor_dim(const gguf_context * gguf, const char * name, int dim) {
    const std::int64_t id = gguf_find_tensor(gguf, name);
    EXPECT_GE(id, 0) << name;
    return id < 0 ? -1 : gguf_get_tensor_ne(gguf, id)[dim];
}

std::uint32_t u32_value(const gguf_context * gguf, const char * key) {
    const std::int64_t id = gguf_find_key(gguf, key);
    EXPECT_GE(id, 0) << key;
    return id < 0 ? 0 : gguf_get_val_u32(gguf, id);
}

class TestModelQwen2VL : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        root_ = fs::temp_directory_path() / ("dermlens-test-qwen2vl-" + std::to_string(::getpid()));
        tiny_ = generate(7, "tiny");
    }
    static void TearDownTestSuite() {
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }

    static Files generate(std::uint64_t seed, const std::string & name) {
        Options options;
        options.arch = Arch::Qwen2VL;
        options.seed = seed;
        options.out_dir = root_ / name;
        return make_test_model(options);
    }

    static inline fs::path root_;
    static inline Files tiny_;
};

TEST_F(TestModelQwen2VL, SameSeedGivesIdenticalFilesAndAnotherSeedDifferentOnes) {
    const Files repeated = generate(7, "repeat");
    const Files other = generate(8, "other-seed");
    EXPECT_EQ(read_bytes(tiny_.model), read_bytes(repeated.model));
    EXPECT_EQ(read_bytes(tiny_.mmproj), read_bytes(repeated.mmproj));
    EXPECT_NE(read_bytes(tiny_.model), read_bytes(other.model));
    EXPECT_NE(read_bytes(tiny_.mmproj), read_bytes(other.mmproj));
}

// The text model is the Qwen2 tokenizer (6.5 MB of metadata) plus the tied
// 151,936 x 32 f16 embedding table (9.7 MB); everything else is tiny.
TEST_F(TestModelQwen2VL, FilesAreSmall) {
    EXPECT_LT(fs::file_size(tiny_.model), 16'500'000u);
    EXPECT_LT(fs::file_size(tiny_.mmproj), 1'000'000u);
}

TEST_F(TestModelQwen2VL, LibllamaLoadsAnMropeModelWithTheFullQwen2Vocabulary) {
    const ModelPtr model = load_model(tiny_.model);
    const ModelPtr original = load_model(vocab_dir() / kVocabFile, true);
    ASSERT_NE(model, nullptr);
    ASSERT_NE(original, nullptr);
    char arch[64] = {};
    ASSERT_GT(llama_model_meta_val_str(model.get(), "general.architecture", arch, sizeof(arch)), 0);
    EXPECT_STREQ(arch, "qwen2vl");
    EXPECT_EQ(llama_model_rope_type(model.get()), LLAMA_ROPE_TYPE_MROPE);
    EXPECT_EQ(llama_model_n_embd(model.get()), kTinyEmbd);
    EXPECT_EQ(llama_vocab_n_tokens(llama_model_get_vocab(model.get())),
              llama_vocab_n_tokens(llama_model_get_vocab(original.get())));
}

TEST_F(TestModelQwen2VL, PromptsTokenizeAsWithTheOriginalVocabulary) {
    const ModelPtr model = load_model(tiny_.model, true);
    const ModelPtr original = load_model(vocab_dir() / kVocabFile, true);
    ASSERT_NE(model, nullptr);
    ASSERT_NE(original, nullptr);
    const auto melanoma = tokenize(model.get(), "melanoma", false);
    EXPECT_FALSE(melanoma.empty());
    EXPECT_EQ(melanoma, tokenize(original.get(), "melanoma", false));
    const std::string prompt = "<|im_start|>user\nIs this lesion a melanoma or a benign nevus?<|im_end|>\n";
    EXPECT_EQ(tokenize(model.get(), prompt, true), tokenize(original.get(), prompt, true));
}

// The ids are Qwen2.5-VL's own, so prompts tokenized elsewhere stay valid.
TEST_F(TestModelQwen2VL, VisionMarkersAreSingleControlTokensAtTheReleasedIds) {
    const ModelPtr model = load_model(tiny_.model, true);
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(tokenize(model.get(), "<|vision_start|>", true), std::vector<llama_token>{151652});
    EXPECT_EQ(tokenize(model.get(), "<|vision_end|>", true), std::vector<llama_token>{151653});
    EXPECT_EQ(tokenize(model.get(), "<|image_pad|>", true), std::vector<llama_token>{151655});
    const llama_vocab * vocab = llama_model_get_vocab(model.get());
    EXPECT_EQ(llama_vocab_eos(vocab), 151645);  // <|im_end|>
    EXPECT_TRUE(llama_vocab_is_eog(vocab, 151645));
    EXPECT_FALSE(llama_vocab_get_add_bos(vocab));
}

TEST_F(TestModelQwen2VL, ChatTemplateIsChatml) {
    const ModelPtr model = load_model(tiny_.model, true);
    ASSERT_NE(model, nullptr);
    const char * chat_template = llama_model_chat_template(model.get(), nullptr);
    ASSERT_NE(chat_template, nullptr);
    const llama_chat_message message{"user", "Describe the lesion."};
    std::vector<char> out(1024);
    const int n = llama_chat_apply_template(chat_template, &message, 1, true, out.data(), static_cast<int32_t>(out.size()));
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(out.data(), static_cast<std::size_t>(n)),
              "<|im_start|>user\nDescribe the lesion.<|im_end|>\n<|im_start|>assistant\n");
}

struct ImageCase {
    std::uint32_t width;
    std::uint32_t height;
    std::uint32_t tokens_x;  // each side resized to the nearest multiple of 28 px
    std::uint32_t tokens_y;
};

void PrintTo(const ImageCase & image, std::ostream * out) { *out << image.width << "x" << image.height; }

class TestModelQwen2VLImage : public TestModelQwen2VL, public ::testing::WithParamInterface<ImageCase> {};

TEST_P(TestModelQwen2VLImage, MtmdEncodesTheImageAtItsAspectRatioAndDecodingGivesFiniteLogits) {
    const ImageCase & image = GetParam();
    const ModelPtr model = load_model(tiny_.model);
    ASSERT_NE(model, nullptr);
    mtmd_context_params mtmd_params = mtmd_context_params_default();
    mtmd_params.use_gpu = false;
    mtmd_params.print_timings = false;
    mtmd_params.n_threads = 1;
    mtmd_params.warmup = false;  // warmup encodes a 1288 px image: slow and irrelevant here
    const MtmdPtr vision(mtmd_init_from_file(tiny_.mmproj.c_str(), model.get(), mtmd_params));
    ASSERT_NE(vision, nullptr);
    EXPECT_TRUE(mtmd_decode_use_mrope(vision.get()));

    const auto bitmap = gradient_bitmap(image.width, image.height);
    const mtmd_bitmap * bitmaps[] = {bitmap.get()};
    const std::string prompt = "<|im_start|>user\n" + std::string(mtmd_default_marker()) +
                               "Describe the lesion.<|im_end|>\n<|im_start|>assistant\n";
    const mtmd_input_text text{prompt.c_str(), prompt.size(), true, true};
    const ChunksPtr chunks(mtmd_input_chunks_init());
    ASSERT_EQ(mtmd_tokenize(vision.get(), chunks.get(), &text, bitmaps, 1), 0);
    const mtmd_input_chunk * image_chunk = only_image_chunk(chunks.get());
    ASSERT_NE(image_chunk, nullptr);
    const mtmd_image_tokens * image_tokens = mtmd_input_chunk_get_tokens_image(image_chunk);
    const std::size_t n_tokens = mtmd_image_tokens_get_n_tokens(image_tokens);
    EXPECT_EQ(n_tokens, static_cast<std::size_t>(image.tokens_x) * image.tokens_y);
    // M-RoPE: the image advances the text position by its longer side, not its token count.
    EXPECT_EQ(mtmd_image_tokens_get_n_pos(image_tokens), static_cast<llama_pos>(std::max(image.tokens_x, image.tokens_y)));
    const mtmd_decoder_pos last = mtmd_image_tokens_get_decoder_pos(image_tokens, 0, n_tokens - 1);
    EXPECT_EQ(last.x, image.tokens_x - 1);
    EXPECT_EQ(last.y, image.tokens_y - 1);

    llama_context_params context_params = llama_context_default_params();
    context_params.n_ctx = 256;
    context_params.n_batch = 64;
    context_params.n_threads = 1;
    const ContextPtr context(llama_init_from_model(model.get(), context_params));
    ASSERT_NE(context, nullptr);
    llama_pos n_past = 0;
    ASSERT_EQ(mtmd_helper_eval_chunks(vision.get(), context.get(), chunks.get(), 0, 0, 64, true, &n_past), 0);
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model.get()));
    const float * logits = llama_get_logits_ith(context.get(), -1);
    ASSERT_NE(logits, nullptr);
    EXPECT_TRUE(all_finite(logits, n_vocab));

    // One greedy decode step after the prompt, at the position mtmd reports.
    llama_token next = static_cast<llama_token>(std::max_element(logits, logits + n_vocab) - logits);
    llama_batch batch = llama_batch_init(1, 0, 1);
    batch.n_tokens = 1;
    batch.token[0] = next;
    batch.pos[0] = n_past;
    batch.n_seq_id[0] = 1;
    batch.seq_id[0][0] = 0;
    batch.logits[0] = 1;
    const int decoded = llama_decode(context.get(), batch);
    llama_batch_free(batch);
    ASSERT_EQ(decoded, 0);
    EXPECT_TRUE(all_finite(llama_get_logits_ith(context.get(), -1), n_vocab));
}

INSTANTIATE_TEST_SUITE_P(Sizes, TestModelQwen2VLImage,
                         ::testing::Values(ImageCase{100, 70, 4, 3},   // 112 x 84 px
                                           ImageCase{200, 60, 7, 2}),  // 196 x 56 px
                         [](const ::testing::TestParamInfo<ImageCase> & param_info) {
                             return std::to_string(param_info.param.width) + "x" + std::to_string(param_info.param.height);
                         });

// Only the metadata is checked: the 7B files (about 17 GB at f16) are a benchmark
// artefact, so this test generates nothing and reads the shapes from a real run
// only when DERMLENS_QWEN_7B_DIR points at one.
TEST(TestModelQwen2VLPreset, RealSizePresetHasQwen25Vl7bShapes) {
    const char * dir = std::getenv("DERMLENS_QWEN_7B_DIR");
    if (dir == nullptr) {
        GTEST_SKIP() << "set DERMLENS_QWEN_7B_DIR to a `make-test-model --preset qwen2.5-vl-7b` output";
    }
    const GgufPtr text = read_metadata(fs::path(dir) / "model.gguf");
    const GgufPtr projector = read_metadata(fs::path(dir) / "mmproj.gguf");
    ASSERT_NE(text, nullptr);
    ASSERT_NE(projector, nullptr);
    EXPECT_EQ(u32_value(text.get(), "qwen2vl.block_count"), 28u);
    EXPECT_EQ(u32_value(text.get(), "qwen2vl.embedding_length"), 3584u);
    EXPECT_EQ(u32_value(text.get(), "qwen2vl.attention.head_count_kv"), 4u);
    EXPECT_EQ(tensor_dim(text.get(), "output.weight", 1), 152064);
    EXPECT_EQ(tensor_dim(text.get(), "blk.0.ffn_up.weight", 1), 18944);
    EXPECT_EQ(u32_value(projector.get(), "clip.vision.block_count"), 32u);
    EXPECT_EQ(u32_value(projector.get(), "clip.vision.n_wa_pattern"), 8u);
    EXPECT_EQ(tensor_dim(projector.get(), "mm.2.weight", 1), 3584);
}

}  // namespace
}  // namespace dermlens::testmodel
