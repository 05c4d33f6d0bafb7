// Encode once: Vlm::encode returns the projected image embeddings and both pooled
// features; generating from that encoding gives the same answer as generating from
// the image, without running the encoder again. EncoderMean is checked against
// llama-mtmd-cli's own dump of the vision graph (MTMD_DEBUG_GRAPH) for the same image:
// the observed tensor has the encoder's width and token count, its sum matches, and no
// encoder block runs after it (only the projector).
#include "dermlens/error.h"
#include "image/image.h"
#include "model/encoder_tap.h"
#include "model/gguf_check.h"
#include "model/lesion_png.h"
#include "model/testmodel.h"
#include "model/vlm.h"
#include "support/expect_error.h"
#include "support/run_process.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using dermlens::model::ImageEncoding;
using dermlens::model::Vlm;
using dermlens::testmodel::Arch;

constexpr const char * kQuestion = "Which condition is shown?\n(A) melanoma\n(B) nevus\nAnswer with the letter.";

fs::path work_dir() {
    static const fs::path dir = [] {
        auto path = fs::temp_directory_path() / ("dermlens_encode_" + std::to_string(::getpid()));
        fs::create_directories(path);
        return path;
    }();
    return dir;
}

dermlens::testmodel::Files model_files(Arch arch) {
    dermlens::testmodel::Options options;
    options.arch = arch;
    options.seed = 3;
    options.out_dir = work_dir() / std::string(dermlens::testmodel::arch_name(arch));
    if (!fs::exists(options.out_dir / "mmproj.gguf")) {
        return dermlens::testmodel::make_test_model(options);
    }
    return {options.out_dir / "model.gguf", options.out_dir / "mmproj.gguf"};
}

dermlens::model::VlmParams params_for(const dermlens::testmodel::Files & files) {
    dermlens::model::VlmParams params;
    params.model_path = files.model;
    params.mmproj_path = files.mmproj;
    params.threads = 1;
    params.context_size = 2048;
    params.max_tokens = 12;
    return params;
}

std::vector<float> column_means(const std::vector<float> & rows, std::size_t width) {
    std::vector<float> mean(width, 0.0f);
    const std::size_t n = rows.size() / width;
    for (std::size_t col = 0; col < width; ++col) {
        double sum = 0;
        for (std::size_t row = 0; row < n; ++row) {
            sum += rows[row * width + col];
        }
        mean[col] = static_cast<float>(sum / static_cast<double>(n));
    }
    return mean;
}

bool all_finite(const std::vector<float> & values) {
    return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

class VlmEncode : public testing::TestWithParam<Arch> {
protected:
    static void TearDownTestSuite() { fs::remove_all(work_dir()); }

    void SetUp() override {
        files_ = model_files(GetParam());
        image_ = dermlens::image::load_image(dermlens::test::lesion_png(work_dir()));
    }

    dermlens::model::ImageView view() const { return {image_.width, image_.height, image_.rgb.data()}; }

    dermlens::testmodel::Files files_;
    dermlens::image::RgbImage image_;
};

std::string arch_case_name(const testing::TestParamInfo<Arch> & info) {
    return std::string(dermlens::testmodel::arch_name(info.param));
}

TEST_P(VlmEncode, GeneratingFromTheEncodingEqualsGeneratingFromTheImage) {
    Vlm vlm(params_for(files_));
    const ImageEncoding encoding = vlm.encode(view());
    const auto from_encoding = vlm.generate(encoding, kQuestion);
    const auto again = vlm.generate(encoding, kQuestion);
    const auto from_image = vlm.generate(view(), kQuestion);
    ASSERT_FALSE(from_image.tokens.empty());
    EXPECT_EQ(from_encoding.tokens, from_image.tokens);
    EXPECT_EQ(from_encoding.text, from_image.text);
    EXPECT_EQ(again.text, from_image.text);
    EXPECT_EQ(from_encoding.prompt_tokens, from_image.prompt_tokens);
    EXPECT_EQ(from_encoding.image_tokens, encoding.n_tokens);
    EXPECT_EQ(from_image.image_tokens, encoding.n_tokens);
    // The encoder ran for the image only: an encoding carries no pixels to run it on.
    EXPECT_EQ(from_encoding.timings.image_encode_ms, 0.0);
    EXPECT_GT(from_image.timings.image_encode_ms, 0.0);
    EXPECT_GT(encoding.encode_ms, 0.0);
}

TEST_P(VlmEncode, EncodingHoldsEmbeddingsAndBothPooledFeatures) {
    const auto projector = dermlens::model::check_projector(files_.mmproj);
    Vlm vlm(params_for(files_));
    const ImageEncoding encoding = vlm.encode(view());
    EXPECT_EQ(encoding.image_width, image_.width);
    EXPECT_EQ(encoding.image_height, image_.height);
    EXPECT_EQ(encoding.n_embd, projector.output_dim);
    ASSERT_GT(encoding.n_tokens, 0);
    ASSERT_EQ(encoding.embeddings.size(), static_cast<std::size_t>(encoding.n_tokens) * encoding.n_embd);
    EXPECT_TRUE(all_finite(encoding.embeddings));

    ASSERT_EQ(encoding.projected_mean.size(), static_cast<std::size_t>(encoding.n_embd));
    const auto expected = column_means(encoding.embeddings, static_cast<std::size_t>(encoding.n_embd));
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_NEAR(encoding.projected_mean[i], expected[i], 1e-6f) << i;
    }

    // The encoder side: its own width (clip.vision.embedding_length) and token count.
    EXPECT_EQ(encoding.encoder_mean.size(), static_cast<std::size_t>(projector.encoder_width));
    EXPECT_EQ(vlm.encoder_tap().width, projector.encoder_width);
    EXPECT_TRUE(all_finite(encoding.encoder_mean));
    EXPECT_GT(encoding.encoder_tokens, 0);
    EXPECT_NE(encoding.encoder_mean, encoding.projected_mean);

    // Deterministic: a second encode of the same pixels gives the same bits.
    const ImageEncoding again = vlm.encode(view());
    EXPECT_EQ(again.embeddings, encoding.embeddings);
    EXPECT_EQ(again.encoder_mean, encoding.encoder_mean);
}

// The architectures' token bookkeeping: SigLIP's 256 patch tokens pool 4x4 into 16 image
// tokens (the feature is read before the pooling), Qwen2-VL merges 2x2 patches, LLaVA keeps
// one token per patch plus the class token the encoder carries.
TEST_P(VlmEncode, EncoderTokensAreCountedBeforeTheProjector) {
    const auto projector = dermlens::model::check_projector(files_.mmproj);
    Vlm vlm(params_for(files_));
    const ImageEncoding encoding = vlm.encode(view());
    const std::int64_t per_side = projector.image_size / projector.patch_size;
    switch (GetParam()) {
        case Arch::Gemma3:
            EXPECT_EQ(encoding.encoder_tokens, per_side * per_side);
            EXPECT_EQ(encoding.n_tokens * 16, encoding.encoder_tokens);
            EXPECT_EQ(vlm.encoder_tap().layer, "post-ln");
            break;
        case Arch::Qwen2VL:
            EXPECT_EQ(encoding.encoder_tokens, 4 * encoding.n_tokens);
            EXPECT_EQ(vlm.encoder_tap().layer, "block-" + std::to_string(projector.encoder_layers - 1));
            break;
        case Arch::Llava:
            EXPECT_EQ(encoding.encoder_tokens, per_side * per_side + 1);
            EXPECT_EQ(encoding.n_tokens, per_side * per_side);
            EXPECT_EQ(vlm.encoder_tap().layer, "block-" + std::to_string(projector.encoder_layers - 2));
            break;
    }
}

// generate(encoding) reads the stored embeddings, nothing else: an encoding of image A
// carrying image B's embeddings answers as B does.
TEST_P(VlmEncode, TheStoredEmbeddingsAreWhatTheTextModelReads) {
    Vlm vlm(params_for(files_));
    std::vector<std::uint8_t> flipped(image_.rgb.rbegin(), image_.rgb.rend());
    const ImageEncoding a = vlm.encode(view());
    const ImageEncoding b = vlm.encode({image_.width, image_.height, flipped.data()});
    ASSERT_NE(a.embeddings, b.embeddings);
    ImageEncoding swapped = a;
    swapped.embeddings = b.embeddings;
    const auto answer_b = vlm.generate(b, kQuestion);
    const auto answer_swapped = vlm.generate(swapped, kQuestion);
    EXPECT_EQ(answer_swapped.tokens, answer_b.tokens);
    EXPECT_NE(vlm.generate(a, kQuestion).tokens, answer_b.tokens) << "both images answer alike: the check is vacuous";
}

TEST_P(VlmEncode, AnEncodingThatDoesNotFitTheModelIsRefused) {
    Vlm vlm(params_for(files_));
    const ImageEncoding encoding = vlm.encode(view());
    auto expect_refused = [&](const ImageEncoding & bad, const std::string & needle) {
        dermlens::test::expect_error([&] { vlm.generate(bad, kQuestion); }, dermlens::ErrorKind::InvalidInput, {needle});
    };
    ImageEncoding wider = encoding;
    wider.n_embd += 1;
    expect_refused(wider, "wide");
    ImageEncoding truncated = encoding;
    truncated.embeddings.pop_back();
    expect_refused(truncated, "values");
    ImageEncoding fewer = encoding;
    fewer.n_tokens -= 1;
    fewer.embeddings.resize(static_cast<std::size_t>(fewer.n_tokens) * fewer.n_embd);
    expect_refused(fewer, "lays out");
}

struct DumpedTensor {
    std::vector<long> shape;
    double sum = 0;
    std::string op_line;
    std::vector<std::string> later_lines;  // the nodes computed after it
};

// Finds the last node called `name` in llama-mtmd-cli's MTMD_DEBUG_GRAPH output.
DumpedTensor find_dumped(const std::string & dump, const std::string & name) {
    std::istringstream in(dump);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    const std::regex node("^common_debug_cb_eval:\\s+" + name + " = \\(f32\\).*= \\{(\\d+), (\\d+), (\\d+), (\\d+)\\}$");
    DumpedTensor found;
    std::size_t at = lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::smatch match;
        if (std::regex_match(lines[i], match, node)) {
            at = i;
            found.op_line = lines[i];
            found.shape = {std::stol(match[1]), std::stol(match[2]), std::stol(match[3]), std::stol(match[4])};
        }
    }
    if (at == lines.size()) {
        ADD_FAILURE() << "no node '" << name << "' in the dump";
        return found;
    }
    for (std::size_t i = at + 1; i < lines.size(); ++i) {
        const auto sum_at = lines[i].find("sum = ");
        if (sum_at != std::string::npos && found.later_lines.empty()) {
            found.sum = std::stod(lines[i].substr(sum_at + 6));
            continue;
        }
        if (lines[i].rfind("common_debug_cb_eval:", 0) == 0) {
            found.later_lines.push_back(lines[i]);
        }
    }
    return found;
}

TEST_P(VlmEncode, EncoderMeanMatchesLlamaMtmdClisDumpOfTheSameTensor) {
    Vlm vlm(params_for(files_));
    const ImageEncoding encoding = vlm.encode(view());
    const std::string tap = vlm.encoder_tap().tensor_name;

    const auto reference = dermlens::test::run_process(
        {MTMD_CLI, "-m", files_.model.string(), "--mmproj", files_.mmproj.string(), "--image",
         dermlens::test::lesion_png(work_dir()).string(), "-p", Vlm::user_message(kQuestion), "--no-jinja", "--temp",
         "0", "-n", "1", "-t", "1", "-fa", "off", "-fit", "off"},
        {{"MTMD_DEBUG_GRAPH", "1"}});
    ASSERT_EQ(reference.exit_code, 0) << reference.err;
    const DumpedTensor dumped = find_dumped(reference.out + reference.err, tap);
    ASSERT_EQ(dumped.shape.size(), 4u);
    EXPECT_EQ(dumped.shape[0], static_cast<long>(encoding.encoder_mean.size()));
    EXPECT_EQ(dumped.shape[1] * dumped.shape[2] * dumped.shape[3], encoding.encoder_tokens);

    // Sum over the whole tensor = tokens x sum of the per-feature means (the dump sums in float).
    const double ours = std::accumulate(encoding.encoder_mean.begin(), encoding.encoder_mean.end(), 0.0) *
                        encoding.encoder_tokens;
    const double tolerance = 1e-5 * std::max(1.0, std::abs(dumped.sum)) +
                             1e-6 * static_cast<double>(encoding.encoder_tokens * encoding.encoder_mean.size());
    EXPECT_NEAR(ours, dumped.sum, tolerance) << dumped.op_line;

    // Before the projector: after this node the graph reads projector weights (mm.*) and no
    // encoder block (v.blk.*) any more.
    const auto reads = [&](const std::string & prefix) {
        return std::any_of(dumped.later_lines.begin(), dumped.later_lines.end(),
                           [&](const std::string & line) { return line.find(prefix) != std::string::npos; });
    };
    EXPECT_TRUE(reads("mm.")) << dumped.op_line;
    EXPECT_FALSE(reads("v.blk.")) << dumped.op_line;
    if (GetParam() == Arch::Gemma3) {
        EXPECT_NE(dumped.op_line.find("v.post_ln.bias"), std::string::npos) << dumped.op_line;
    }
}

INSTANTIATE_TEST_SUITE_P(Archs, VlmEncode, testing::Values(Arch::Gemma3, Arch::Qwen2VL, Arch::Llava), arch_case_name);

}  // namespace
