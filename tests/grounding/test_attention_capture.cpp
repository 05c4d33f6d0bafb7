// Attention capture on generated tiny models of all three architectures: every captured row
// is a distribution over exactly the cells the prompt fills, the image block sits where
// libmtmd's token layout puts the image, paper 000's m_label and m_all equal a brute-force
// recomputation from the raw per-head rows, and observing changes no answer.
#include "dermlens/error.h"
#include "grounding/attention_map.h"
#include "image/image.h"
#include "dermlens/kb/knowledge_base.h"
#include "model/lesion_png.h"
#include "model/llama_test_support.h"
#include "model/testmodel.h"
#include "model/vlm.h"
#include "pipeline/rerank.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using dermlens::grounding::AttentionRecorder;
using dermlens::grounding::AttentionReduction;
using dermlens::grounding::HeadReduction;
using dermlens::model::AttentionStep;
using dermlens::model::ChatPrompt;
using dermlens::model::ChatTurn;
using dermlens::model::DecodeParams;
using dermlens::model::Vlm;
using dermlens::testmodel::Arch;

const ::testing::Environment * const quiet =
    ::testing::AddGlobalTestEnvironment(new dermlens::testing_support::QuietLlama);

const char * const kQuestion = "Describe the lesion, then name it.";

// r(t)[j] recomputed the plain way: the mean (or max) over heads, then over layers, in double.
std::vector<double> brute_force_row(const AttentionStep & step, int first, int last, HeadReduction reduction) {
    std::vector<double> row(static_cast<std::size_t>(step.image_tokens), 0.0);
    for (int j = 0; j < step.image_tokens; ++j) {
        double over_layers = reduction == HeadReduction::Max ? -1.0 : 0.0;
        for (int layer = first; layer <= last; ++layer) {
            double over_heads = reduction == HeadReduction::Max ? -1.0 : 0.0;
            for (int head = 0; head < step.n_heads; ++head) {
                const double p = step.row(layer, head)[step.image_begin + j];
                over_heads = reduction == HeadReduction::Max ? std::max(over_heads, p) : over_heads + p / step.n_heads;
            }
            over_layers = reduction == HeadReduction::Max ? std::max(over_layers, over_heads)
                                                          : over_layers + over_heads / (last - first + 1);
        }
        row[static_cast<std::size_t>(j)] = over_layers;
    }
    return row;
}

std::vector<double> brute_force_mean(const std::vector<AttentionStep> & steps, const std::vector<std::size_t> & chosen) {
    std::vector<double> mean;
    for (const std::size_t s : chosen) {
        const auto & step = steps.at(s);
        const auto row = brute_force_row(step, 0, step.n_layers - 1, HeadReduction::Mean);
        mean.resize(row.size(), 0.0);
        for (std::size_t j = 0; j < row.size(); ++j) {
            mean[j] += row[j] / static_cast<double>(chosen.size());
        }
    }
    return mean;
}

void expect_near_all(const std::vector<float> & actual, const std::vector<double> & expected) {
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t j = 0; j < expected.size(); ++j) {
        EXPECT_NEAR(actual[j], expected[j], 1e-6) << "image token " << j;
    }
}

class AttentionCapture : public testing::TestWithParam<Arch> {
protected:
    static void SetUpTestSuite() { dir_ = new dermlens::test::TempDir("attention"); }
    static void TearDownTestSuite() { delete dir_; }

    void SetUp() override {
        dermlens::testmodel::Options options;
        options.arch = GetParam();
        options.seed = 5;
        options.out_dir = *dir_ / std::string(dermlens::testmodel::arch_name(GetParam()));
        files_ = fs::exists(options.out_dir / "mmproj.gguf")
                     ? dermlens::testmodel::Files{options.out_dir / "model.gguf", options.out_dir / "mmproj.gguf"}
                     : dermlens::testmodel::make_test_model(options);
        vlm_ = std::make_unique<Vlm>(params(true));
        image_ = dermlens::image::load_image(dermlens::test::lesion_png(dir_->path()));
        encoding_ = vlm_->encode({image_.width, image_.height, image_.rgb.data()});
    }

    dermlens::model::VlmParams params(bool capture) const {
        dermlens::model::VlmParams p;
        p.model_path = files_.model;
        p.mmproj_path = files_.mmproj;
        p.threads = 1;
        p.context_size = 2048;
        p.capture_attention = capture;
        return p;
    }

    static ChatPrompt prompt() { return {{{ChatTurn::Role::User, Vlm::user_message(kQuestion)}}, ""}; }

    // Where libmtmd's tokenizer puts the image in the prompt: text tokens before the image
    // chunk, and the image chunk's tokens.
    std::pair<int, int> image_block_from_token_layout() const {
        using namespace dermlens::testing_support;
        const ModelPtr model = load_model(files_.model);
        mtmd_context_params mparams = mtmd_context_params_default();
        mparams.n_threads = 1;
        const MtmdPtr mtmd(mtmd_init_from_file(files_.mmproj.c_str(), model.get(), mparams));
        const std::string text = vlm_->format_prompt(Vlm::user_message(kQuestion));
        const BitmapPtr bitmap(mtmd_bitmap_init(static_cast<std::uint32_t>(image_.width),
                                                static_cast<std::uint32_t>(image_.height), image_.rgb.data()));
        const ChunksPtr chunks(mtmd_input_chunks_init());
        const mtmd_input_text input{text.c_str(), text.size(), true, true};
        const mtmd_bitmap * bitmaps[] = {bitmap.get()};
        EXPECT_EQ(mtmd_tokenize(mtmd.get(), chunks.get(), &input, bitmaps, 1), 0);
        int before = 0;
        for (std::size_t i = 0; i < mtmd_input_chunks_size(chunks.get()); ++i) {
            const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks.get(), i);
            if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
                return {before, static_cast<int>(mtmd_input_chunk_get_n_tokens(chunk))};
            }
            before += static_cast<int>(mtmd_input_chunk_get_n_tokens(chunk));
        }
        ADD_FAILURE() << "no image chunk";
        return {-1, 0};
    }

    static inline dermlens::test::TempDir * dir_ = nullptr;
    dermlens::testmodel::Files files_;
    std::unique_ptr<Vlm> vlm_;
    dermlens::image::RgbImage image_;
    dermlens::model::ImageEncoding encoding_;
};

TEST_P(AttentionCapture, RowsAreDistributionsOverThePromptCellsInOrder) {
    AttentionRecorder recorder(AttentionReduction{}, /*keep_steps=*/true);
    vlm_->set_attention_observer(&recorder);
    const auto generation = vlm_->generate(encoding_, prompt(), DecodeParams{12, "", 0, 0});
    vlm_->set_attention_observer(nullptr);

    const std::size_t expected_steps =
        generation.tokens.size() + (generation.stop_reason == dermlens::model::StopReason::EndOfGeneration ? 1 : 0);
    ASSERT_EQ(recorder.steps().size(), expected_steps);
    ASSERT_GT(expected_steps, 0u);
    for (std::size_t j = 0; j < recorder.steps().size(); ++j) {
        const AttentionStep & step = recorder.steps()[j];
        // Step j's query is the j-th token after the prompt's last: it sees the prompt and the j before it.
        EXPECT_EQ(step.n_keys, generation.prompt_tokens + static_cast<int>(j)) << "step " << j;
        for (int layer = 0; layer < step.n_layers; ++layer) {
            for (int head = 0; head < step.n_heads; ++head) {
                const float * row = step.row(layer, head);
                EXPECT_NEAR(std::accumulate(row, row + step.n_keys, 0.0), 1.0, 1e-4)
                    << "step " << j << " layer " << layer << " head " << head;
                EXPECT_TRUE(std::all_of(row, row + step.n_keys, [](float p) { return p >= 0.0f && p <= 1.0f; }));
                // Causal: the query attends to itself (its own cell is the last in use).
                EXPECT_GT(row[step.n_keys - 1], 0.0f);
            }
        }
    }
}

TEST_P(AttentionCapture, ImageBlockMatchesTheTokenLayout) {
    AttentionRecorder recorder(AttentionReduction{}, true);
    vlm_->set_attention_observer(&recorder);
    vlm_->generate(encoding_, prompt(), DecodeParams{3, "", 0, 0});
    vlm_->set_attention_observer(nullptr);

    const auto [begin, tokens] = image_block_from_token_layout();
    EXPECT_EQ(tokens, encoding_.n_tokens);
    for (const AttentionStep & step : recorder.steps()) {
        EXPECT_EQ(step.image_begin, begin);
        EXPECT_EQ(step.image_tokens, tokens);
        EXPECT_EQ(recorder.rows().front().size(), static_cast<std::size_t>(tokens));
    }
}

TEST_P(AttentionCapture, RestrictedRowsEqualABruteForceReductionForLayerRangesAndMax) {
    const int n_layers = [&] {
        AttentionRecorder probe(AttentionReduction{}, true);
        vlm_->set_attention_observer(&probe);
        vlm_->generate(encoding_, prompt(), DecodeParams{1, "", 0, 0});
        return probe.steps().front().n_layers;
    }();
    for (const HeadReduction reduction : {HeadReduction::Mean, HeadReduction::Max}) {
        const AttentionReduction range{n_layers > 1 ? 1 : 0, n_layers - 1, reduction};
        AttentionRecorder recorder(range, true);
        vlm_->set_attention_observer(&recorder);
        vlm_->generate(encoding_, prompt(), DecodeParams{4, "", 0, 0});
        vlm_->set_attention_observer(nullptr);
        for (std::size_t s = 0; s < recorder.steps().size(); ++s) {
            expect_near_all(recorder.rows()[s], brute_force_row(recorder.steps()[s], range.first_layer, n_layers - 1,
                                                                reduction));
        }
    }
}

TEST_P(AttentionCapture, RerankerMapsEqualBruteForceRecomputation) {
    const auto & kb = [] () -> const dermlens::kb::KnowledgeBase & {
        static const auto loaded = dermlens::kb::KnowledgeBase::load({dermlens::kb::KnowledgeBase::shipped_dir()});
        return loaded;
    }();
    for (const auto decide : {dermlens::pipeline::DecideMode::Score, dermlens::pipeline::DecideMode::Generate}) {
        dermlens::pipeline::RerankParams params;
        params.strategy = dermlens::pipeline::Strategy::DescribeThenDecide;
        params.decide = decide;
        params.answer_tokens = 12;
        params.attention = AttentionReduction{};
        params.keep_attention_steps = true;
        dermlens::pipeline::Reranker reranker(*vlm_, kb, params, {"melanoma", "nevus", "seborrheic_keratosis"},
                                              "isic9class", nullptr);
        const auto result = reranker.diagnose(encoding_, {}, 1);
        ASSERT_TRUE(result.attention);
        const auto & evidence = *result.attention;
        const auto & steps = evidence.raw_steps;

        // m_all: the description's steps and the decision's, every one of them.
        std::vector<std::size_t> response(evidence.all_steps);
        EXPECT_GE(response.size(), 2u);
        expect_near_all(evidence.all_map, brute_force_mean(steps, response));
        EXPECT_EQ(evidence.layout.tokens(), encoding_.n_tokens);
        EXPECT_EQ(evidence.all_map.size(), static_cast<std::size_t>(encoding_.n_tokens));
        if (decide == dermlens::pipeline::DecideMode::Score) {
            // The scored step is the last one observed, and m_label is its row alone.
            ASSERT_TRUE(evidence.label_map);
            EXPECT_EQ(evidence.label_steps, std::vector<std::size_t>{steps.size() - 1});
            expect_near_all(*evidence.label_map, brute_force_mean(steps, evidence.label_steps));
        } else if (evidence.label_map) {
            EXPECT_FALSE(evidence.label_steps.empty());
            for (const std::size_t s : evidence.label_steps) {
                EXPECT_NE(std::find(response.begin(), response.end(), s), response.end());
            }
            expect_near_all(*evidence.label_map, brute_force_mean(steps, evidence.label_steps));
        } else {
            EXPECT_FALSE(result.parsed && result.parsed->index) << "a parsed answer has label tokens";
        }
    }
}

TEST_P(AttentionCapture, ObservingChangesNoAnswer) {
    const auto unobserved = vlm_->generate(encoding_, prompt(), DecodeParams{10, "", 0, 0});
    AttentionRecorder recorder(AttentionReduction{}, /*keep_steps=*/true);
    vlm_->set_attention_observer(&recorder);
    const auto observed = vlm_->generate(encoding_, prompt(), DecodeParams{10, "", 0, 0});
    vlm_->set_attention_observer(nullptr);
    EXPECT_EQ(observed.tokens, unobserved.tokens);
    // The same prompt again: an observer needs its last token's attention, so the prompt's end
    // is evaluated again rather than read from the kept logits (kv_prefix.h).
    const std::size_t expected_steps =
        observed.tokens.size() + (observed.stop_reason == dermlens::model::StopReason::EndOfGeneration ? 1 : 0);
    ASSERT_EQ(recorder.steps().size(), expected_steps);
    EXPECT_EQ(recorder.steps().front().n_keys, observed.prompt_tokens);
}

TEST_P(AttentionCapture, ObserverNeedsAModelLoadedForCapture) {
    Vlm plain(params(false));
    AttentionRecorder recorder(AttentionReduction{});
    dermlens::test::expect_error([&] { plain.set_attention_observer(&recorder); },
                                 dermlens::ErrorKind::InvalidArgument, {"without attention capture"});
    auto with_flash = params(true);
    with_flash.text_flash_attention = dermlens::model::FlashAttention::On;
    dermlens::test::expect_error([&] { with_flash.validate(); }, dermlens::ErrorKind::InvalidArgument,
                                 {"flash attention off"});
}

INSTANTIATE_TEST_SUITE_P(Archs, AttentionCapture, testing::Values(Arch::Gemma3, Arch::Llava, Arch::Qwen2VL),
                         [](const auto & test) { return std::string(dermlens::testmodel::arch_name(test.param)); });

}  // namespace
