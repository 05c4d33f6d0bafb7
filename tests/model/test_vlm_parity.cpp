// Output parity with llama.cpp's reference CLIs: for each architecture, dermlens's
// Vlm and llama-mtmd-cli run the same generated model, PNG image, prompt and
// greedy settings; the generated text must be byte-identical. A text-only model's
// generation is held to llama-completion the same way (TextParity below).
//
// Settings that make the two runs comparable:
//   --no-jinja     mtmd-cli formats the chat through llama_chat_apply_template with
//                  the GGUF's template, as dermlens does (its jinja engine renders
//                  some templates differently, e.g. "ASSISTANT: " vs "ASSISTANT:");
//   no -sys        no system turn, like dermlens;
//   -p <user turn> the exact user message dermlens builds (marker, newline, question);
//                  --no-escape keeps it byte-for-byte;
//   --temp 0       greedy; same -c, -b, -t and -fa (text and vision encoder alike);
//   PNG input      stb_image (mtmd-cli) and dermlens::image (OpenCV) decode it to the
//                  same pixels, which JPEG's IDCTs would not guarantee.
// Both add BOS through tokenisation (add_special on the first turn).
#include "image/image.h"
#include "model/testmodel.h"
#include "model/vlm.h"
#include "model/lesion_png.h"
#include "support/run_process.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;
using dermlens::model::FlashAttention;

constexpr const char * kMarker = "<DERMLENS_PARITY_RESPONSE>";
constexpr int kMaxTokens = 24;
constexpr int kThreads = 1;
constexpr int kContext = 2048;
constexpr int kBatch = 512;

const char * kQuestion =
    "Which condition is shown?\n(A) melanoma\n(B) nevus\n(C) basal cell carcinoma\nAnswer with the letter.";

fs::path work_dir() {
    static const fs::path dir = [] {
        auto path = fs::temp_directory_path() / ("dermlens_parity_" + std::to_string(::getpid()));
        fs::create_directories(path);
        return path;
    }();
    return dir;
}

struct ParityCase {
    dermlens::testmodel::Arch arch;
    FlashAttention flash_attention;  // FlashAttention::Off or On: the same for text model and encoder
};

std::string case_name(const testing::TestParamInfo<ParityCase> & info) {
    return std::string(dermlens::testmodel::arch_name(info.param.arch)) + "_fa_" +
           dermlens::model::flash_attention_name(info.param.flash_attention);
}

class VlmParity : public testing::TestWithParam<ParityCase> {
protected:
    static void TearDownTestSuite() { fs::remove_all(work_dir()); }
};

TEST_P(VlmParity, GeneratedTextEqualsLlamaMtmdCli) {
    const ParityCase param = GetParam();
    dermlens::testmodel::Options options;
    options.arch = param.arch;
    options.seed = 7;
    options.out_dir = work_dir() / case_name({param, 0});
    const auto files = dermlens::testmodel::make_test_model(options);

    dermlens::model::VlmParams params;
    params.model_path = files.model;
    params.mmproj_path = files.mmproj;
    params.threads = kThreads;
    params.context_size = kContext;
    params.batch_size = kBatch;
    params.max_tokens = kMaxTokens;
    params.text_flash_attention = param.flash_attention;
    params.vision_flash_attention = param.flash_attention;
    dermlens::model::Vlm vlm(params);

    const fs::path png = dermlens::test::lesion_png(work_dir());
    const auto image = dermlens::image::load_image(png);
    const auto ours = vlm.generate({image.width, image.height, image.rgb.data()}, kQuestion);
    ASSERT_FALSE(ours.text.empty()) << "nothing generated: the comparison would be vacuous";

    // llama.cpp's logger prints from a thread it never joins, so mtmd-cli can exit before its
    // last lines are out (llama.cpp issue 22142, seen on a loaded machine): an output without
    // its closing "\n\n" is incomplete, and mtmd-cli is run again (at most three times).
    const auto run_reference = [&] {
        return dermlens::test::run_process(
            {MTMD_CLI, "-m", files.model.string(), "--mmproj", files.mmproj.string(), "--image", png.string(),
             "-p", dermlens::model::Vlm::user_message(kQuestion), "--no-escape", "--no-jinja", "--temp", "0",
             "--seed", "0", "-n", std::to_string(kMaxTokens), "-c", std::to_string(kContext), "-b",
             std::to_string(kBatch), "-t", std::to_string(kThreads), "-fa",
             dermlens::model::flash_attention_name(param.flash_attention), "-fit", "off"},
            {{"MTMD_TEST_RESPONSE_MARKER", kMarker}});
    };
    auto reference = run_reference();
    for (int retry = 0; retry < 2 && reference.exit_code == 0 && !reference.out.ends_with("\n\n"); ++retry) {
        reference = run_reference();
    }
    ASSERT_EQ(reference.exit_code, 0) << reference.err;

    // mtmd-cli prints: marker "\n", "\n" after the prompt, the pieces, "\n" on end-of-generation, "\n\n".
    const auto at = reference.out.find(std::string(kMarker) + "\n");
    ASSERT_NE(at, std::string::npos) << reference.out;
    const std::string printed = reference.out.substr(at + std::string(kMarker).size() + 1);
    const bool eog = ours.stop_reason == dermlens::model::StopReason::EndOfGeneration;
    EXPECT_EQ(printed, "\n" + ours.text + (eog ? "\n" : "") + "\n\n");
}

// A text-only model (no mmproj): Vlm::generate_text against llama-completion on the prompt
// dermlens's chat template gives, raw (-no-cnv), greedy, special tokens rendered (--special)
// as dermlens renders them; llama-completion also prints the end-of-generation token's piece
// and " [end of text]" where dermlens stops.
TEST(TextParity, GeneratedTextEqualsLlamaCompletion) {
    dermlens::testmodel::Options options;
    options.seed = 11;
    options.out_dir = work_dir() / "text-only";
    const auto files = dermlens::testmodel::make_test_model(options);

    dermlens::model::VlmParams params;
    params.model_path = files.model;
    params.threads = kThreads;
    params.context_size = kContext;
    params.batch_size = kBatch;
    dermlens::model::Vlm vlm(params);
    ASSERT_FALSE(vlm.has_vision());

    const std::string question = "Describe the lesion's border in one sentence.";
    const auto ours = vlm.generate_text({{{dermlens::model::ChatTurn::Role::User, question}}, ""},
                                        {kMaxTokens, "", 0, 0});
    ASSERT_FALSE(ours.text.empty()) << "nothing generated: the comparison would be vacuous";

    const auto reference = dermlens::test::run_process(
        {LLAMA_COMPLETION, "-m", files.model.string(), "-p", vlm.format_prompt(question), "-no-cnv",
         "--no-display-prompt", "--special", "--temp", "0", "--seed", "0", "-n", std::to_string(kMaxTokens), "-c",
         std::to_string(kContext), "-b", std::to_string(kBatch), "-t", std::to_string(kThreads), "-fit", "off"});
    ASSERT_EQ(reference.exit_code, 0) << reference.err;
    ASSERT_TRUE(reference.out.starts_with(ours.text)) << "ours: " << ours.text << "\nllama-completion: " << reference.out;
    const std::string rest = reference.out.substr(ours.text.size());
    if (ours.stop_reason == dermlens::model::StopReason::EndOfGeneration) {
        EXPECT_TRUE(rest.ends_with(" [end of text]\n")) << rest;
    } else {
        EXPECT_EQ(rest.find_first_not_of('\n'), std::string::npos) << rest;
    }
    EXPECT_EQ(ours.image_tokens, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Archs, VlmParity,
    testing::Values(ParityCase{dermlens::testmodel::Arch::Gemma3, FlashAttention::Off},
                    ParityCase{dermlens::testmodel::Arch::Gemma3, FlashAttention::On},
                    ParityCase{dermlens::testmodel::Arch::Qwen2VL, FlashAttention::Off},
                    ParityCase{dermlens::testmodel::Arch::Llava, FlashAttention::Off}),
    case_name);

}  // namespace
