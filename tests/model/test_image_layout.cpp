// model::image_layout against libmtmd itself, on tiny generated models of each architecture:
// - the token count and grid libmtmd's tokenizer lays out for non-square images;
// - independently of any formula, the canvas libmtmd's preprocessing really builds, read from
//   the vision graph while the real encoder runs (cb_eval): the input of the patch convolution
//   (inp_raw) and its output, the patch embeddings before any attention. A uniform image shows
//   the content rectangle pixel-exactly against the pad colour; a small bright square placed
//   where the layout says a token is shows up in that token's patches.
#include "model/image_layout.h"
#include "model/gguf_check.h"
#include "model/testmodel.h"
#include "llama_test_support.h"
#include "support/expect_error.h"

#include "ggml-backend.h"
#include "ggml.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace dermlens::testing_support;
using dermlens::ErrorKind;
using dermlens::model::ImageLayout;
using dermlens::model::ProjectorInfo;
using dermlens::testmodel::Arch;

[[maybe_unused]] ::testing::Environment * const kQuietLlama = ::testing::AddGlobalTestEnvironment(new QuietLlama);

struct ImageSize {
    int width;
    int height;
};

// Wider, taller, odd-sized, and one so flat that even Qwen's near-aspect canvas pads it.
constexpr std::array<ImageSize, 5> kSizes{{{300, 200}, {200, 300}, {641, 479}, {479, 641}, {900, 150}}};

// A colour far from every pad colour (black; LLaVA's 122,116,104) and from the square's white.
constexpr std::array<unsigned char, 3> kFill{200, 40, 160};
constexpr std::array<unsigned char, 3> kSquare{255, 255, 255};

struct CanvasRect {
    int x = 0, y = 0, width = 0, height = 0;
    bool operator==(const CanvasRect &) const = default;
};

std::ostream & operator<<(std::ostream & out, const CanvasRect & rect) {
    return out << rect.width << "x" << rect.height << "+" << rect.x << "+" << rect.y;
}

// What the vision graph showed of one encode.
struct GraphView {
    int canvas_width = 0;
    int canvas_height = 0;
    std::vector<float> canvas;  // inp_raw: 3 planes of canvas_width x canvas_height, normalised
    int patch_columns = 0;
    int patch_rows = 0;
    int channels = 0;
    std::vector<float> patch_embeddings;  // [channel][patch_row * patch_columns + patch_column]

    float canvas_at(int channel, int x, int y) const {
        return canvas[(static_cast<std::size_t>(channel) * canvas_height + y) * canvas_width + x];
    }
};

bool named(const ggml_tensor * tensor, const char * name) {
    return tensor != nullptr && std::strcmp(ggml_get_name(tensor), name) == 0;
}

// ggml_conv_2d = im2col(kernel, input) then mul_mat over the unfolded patches.
bool unfolds_input_patches(const ggml_tensor * tensor) {
    return tensor->op == GGML_OP_IM2COL && named(tensor->src[1], "inp_raw");
}

bool convolves_input_patches(const ggml_tensor * tensor) {
    if (tensor->op != GGML_OP_MUL_MAT) {
        return false;
    }
    const ggml_tensor * source = tensor->src[0];
    while (source != nullptr && (source->op == GGML_OP_RESHAPE || source->op == GGML_OP_VIEW)) {
        source = source->src[0];
    }
    return source != nullptr && unfolds_input_patches(source);
}

std::vector<float> read_floats(const ggml_tensor * tensor) {
    EXPECT_EQ(tensor->type, GGML_TYPE_F32);
    std::vector<float> values(static_cast<std::size_t>(ggml_nelements(tensor)));
    ggml_backend_tensor_get(tensor, values.data(), 0, ggml_nbytes(tensor));
    return values;
}

// cb_eval: asks for the first patch unfolding and the first patch convolution (Qwen's two
// temporal kernels both convolve the same input), then copies what they saw.
bool observe_patch_embedding(ggml_tensor * tensor, bool ask, void * user_data) {
    auto & view = *static_cast<GraphView *>(user_data);
    const bool unfold = view.canvas.empty() && unfolds_input_patches(tensor);
    const bool convolution = view.patch_embeddings.empty() && convolves_input_patches(tensor);
    if (ask) {
        return unfold || convolution;
    }
    if (unfold) {
        const ggml_tensor * input = tensor->src[1];
        EXPECT_EQ(input->ne[2], 3);
        view.canvas_width = static_cast<int>(input->ne[0]);
        view.canvas_height = static_cast<int>(input->ne[1]);
        view.canvas = read_floats(input);
        view.patch_columns = static_cast<int>(tensor->ne[1]);
        view.patch_rows = static_cast<int>(tensor->ne[2]);
    }
    if (convolution) {
        view.channels = static_cast<int>(tensor->ne[1]);
        view.patch_embeddings = read_floats(tensor);
    }
    return true;
}

struct LoadedModel {
    ProjectorInfo projector;
    ModelPtr text;
    MtmdPtr vision;
    GraphView observed;  // the callback writes here during an encode (map nodes do not move)
};

struct MtmdGrid {
    int n_tokens = 0;
    int columns = 0;
    int rows = 0;
};

// mtmd's own grid fields: deprecated for decoding positions, but exactly what the layout consumes.
MtmdGrid grid_of(const mtmd_image_tokens * tokens) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return {static_cast<int>(mtmd_image_tokens_get_n_tokens(tokens)), static_cast<int>(mtmd_image_tokens_get_nx(tokens)),
            static_cast<int>(mtmd_image_tokens_get_ny(tokens))};
#pragma GCC diagnostic pop
}

std::vector<unsigned char> uniform_image(ImageSize size) {
    std::vector<unsigned char> rgb(static_cast<std::size_t>(size.width) * size.height * 3);
    for (std::size_t i = 0; i < rgb.size(); ++i) {
        rgb[i] = kFill[i % 3];
    }
    return rgb;
}

// Pixels [x0, x1) x [y0, y1) of the image painted kSquare.
void paint_square(std::vector<unsigned char> & rgb, ImageSize size, int x0, int y0, int x1, int y1) {
    for (int y = std::max(0, y0); y < std::min(size.height, y1); ++y) {
        for (int x = std::max(0, x0); x < std::min(size.width, x1); ++x) {
            std::copy(kSquare.begin(), kSquare.end(), &rgb[(static_cast<std::size_t>(y) * size.width + x) * 3]);
        }
    }
}

class ImageLayoutAgainstMtmd : public ::testing::TestWithParam<Arch> {
protected:
    static void SetUpTestSuite() {
        root_ = fs::temp_directory_path() / ("dermlens_image_layout_" + std::to_string(::getpid()));
    }
    static void TearDownTestSuite() {
        models_.clear();
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }

    static LoadedModel & model(Arch arch) {
        auto found = models_.find(arch);
        if (found != models_.end()) {
            return found->second;
        }
        dermlens::testmodel::Options options;
        options.arch = arch;
        options.seed = 5;
        options.out_dir = root_ / std::string(dermlens::testmodel::arch_name(arch));
        const auto files = dermlens::testmodel::make_test_model(options);
        LoadedModel & loaded = models_[arch];
        loaded.projector = dermlens::model::check_projector(files.mmproj);
        loaded.text = load_model(files.model);
        mtmd_context_params params = mtmd_context_params_default();
        params.use_gpu = false;
        params.print_timings = false;
        params.n_threads = 1;
        params.warmup = false;
        params.cb_eval = observe_patch_embedding;
        params.cb_eval_user_data = &loaded.observed;
        loaded.vision.reset(mtmd_init_from_file(files.mmproj.c_str(), loaded.text.get(), params));
        return loaded;
    }

    // The single image chunk of a prompt that is only the image.
    static ChunksPtr tokenize(const LoadedModel & loaded, const mtmd_bitmap * bitmap) {
        ChunksPtr chunks(mtmd_input_chunks_init());
        const std::string prompt = mtmd_default_marker();
        const mtmd_input_text text{prompt.c_str(), prompt.size(), false, true};
        const mtmd_bitmap * bitmaps[] = {bitmap};
        EXPECT_EQ(mtmd_tokenize(loaded.vision.get(), chunks.get(), &text, bitmaps, 1), 0);
        return chunks;
    }

    static const mtmd_input_chunk * image_chunk(const mtmd_input_chunks * chunks) {
        for (std::size_t i = 0; i < mtmd_input_chunks_size(chunks); ++i) {
            const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, i);
            if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
                return chunk;
            }
        }
        ADD_FAILURE() << "no image chunk";
        return nullptr;
    }

    static MtmdGrid mtmd_grid(const LoadedModel & loaded, ImageSize size) {
        const BitmapPtr placeholder(mtmd_bitmap_init(static_cast<std::uint32_t>(size.width),
                                                     static_cast<std::uint32_t>(size.height), nullptr));
        const ChunksPtr chunks = tokenize(loaded, placeholder.get());
        return grid_of(mtmd_input_chunk_get_tokens_image(image_chunk(chunks.get())));
    }

    static ImageLayout layout_for(const LoadedModel & loaded, ImageSize size) {
        const MtmdGrid grid = mtmd_grid(loaded, size);
        return dermlens::model::image_layout(loaded.projector, size.width, size.height, grid.n_tokens, grid.columns,
                                             grid.rows);
    }

    // Runs the real encoder on `rgb` and returns what the vision graph showed.
    static GraphView encode(LoadedModel & loaded, ImageSize size, const std::vector<unsigned char> & rgb) {
        loaded.observed = GraphView{};
        const BitmapPtr bitmap(mtmd_bitmap_init(static_cast<std::uint32_t>(size.width),
                                                static_cast<std::uint32_t>(size.height), rgb.data()));
        const ChunksPtr chunks = tokenize(loaded, bitmap.get());
        EXPECT_EQ(mtmd_encode_chunk(loaded.vision.get(), image_chunk(chunks.get())), 0);
        return loaded.observed;
    }

    static inline fs::path root_;
    static inline std::map<Arch, LoadedModel> models_;
};

// Canvas pixels within this of another (normalised units: a few grey levels) are the same colour.
constexpr float kSameColour = 0.05f;

// The bounding box of the canvas pixels that show the uniform image (the centre pixel's colour:
// the letterbox is centred) and how many pixels inside that box are not image.
struct ContentScan {
    CanvasRect bounds;
    int holes = 0;
};

ContentScan scan_content(const GraphView & view) {
    const int centre_x = view.canvas_width / 2;
    const int centre_y = view.canvas_height / 2;
    const auto is_image = [&](int x, int y) {
        for (int channel = 0; channel < 3; ++channel) {
            if (std::abs(view.canvas_at(channel, x, y) - view.canvas_at(channel, centre_x, centre_y)) > kSameColour) {
                return false;
            }
        }
        return true;
    };
    int x0 = view.canvas_width, y0 = view.canvas_height, x1 = -1, y1 = -1;
    for (int y = 0; y < view.canvas_height; ++y) {
        for (int x = 0; x < view.canvas_width; ++x) {
            if (is_image(x, y)) {
                x0 = std::min(x0, x);
                y0 = std::min(y0, y);
                x1 = std::max(x1, x);
                y1 = std::max(y1, y);
            }
        }
    }
    ContentScan scan{{x0, y0, x1 - x0 + 1, y1 - y0 + 1}, 0};
    for (int y = y0; y <= y1; ++y) {
        for (int x = x0; x <= x1; ++x) {
            scan.holes += is_image(x, y) ? 0 : 1;
        }
    }
    return scan;
}

CanvasRect content_of(const ImageLayout & layout) {
    return {layout.content_x, layout.content_y, layout.content_width, layout.content_height};
}

// Where token (column, row) sits on the canvas: the grid tiles it in whole patches.
CanvasRect token_tile(const ImageLayout & layout, int column, int row) {
    const int width = layout.canvas_width / layout.grid_columns;
    const int height = layout.canvas_height / layout.grid_rows;
    return {column * width, row * height, width, height};
}

CanvasRect intersection(const CanvasRect & a, const CanvasRect & b) {
    const int x0 = std::max(a.x, b.x);
    const int y0 = std::max(a.y, b.y);
    const int x1 = std::min(a.x + a.width, b.x + b.width);
    const int y1 = std::min(a.y + a.height, b.y + b.height);
    return {x0, y0, std::max(0, x1 - x0), std::max(0, y1 - y0)};
}

// The change-weighted centre of the canvas pixels that differ between two encodes (pixel centres at +0.5).
std::array<double, 2> centre_of_change(const GraphView & before, const GraphView & after) {
    double total = 0, sum_x = 0, sum_y = 0;
    for (int y = 0; y < before.canvas_height; ++y) {
        for (int x = 0; x < before.canvas_width; ++x) {
            double change = 0;
            for (int channel = 0; channel < 3; ++channel) {
                change += std::abs(after.canvas_at(channel, x, y) - before.canvas_at(channel, x, y));
            }
            total += change;
            sum_x += change * (x + 0.5);
            sum_y += change * (y + 0.5);
        }
    }
    return {sum_x / total, sum_y / total};
}

// The patch whose embedding changed most between two encodes: (column, row) in the patch grid.
std::array<int, 2> most_changed_patch(const GraphView & before, const GraphView & after) {
    const std::size_t patches = static_cast<std::size_t>(before.patch_columns) * before.patch_rows;
    std::vector<double> change(patches, 0.0);
    for (std::size_t i = 0; i < before.patch_embeddings.size(); ++i) {
        change[i % patches] += std::abs(after.patch_embeddings[i] - before.patch_embeddings[i]);
    }
    const auto patch = static_cast<int>(std::max_element(change.begin(), change.end()) - change.begin());
    return {patch % before.patch_columns, patch / before.patch_columns};
}

TEST_P(ImageLayoutAgainstMtmd, TokenCountAndGridAreTheOnesMtmdLaysOut) {
    const LoadedModel & loaded = model(GetParam());
    ASSERT_NE(loaded.vision, nullptr);
    for (const ImageSize size : kSizes) {
        SCOPED_TRACE(::testing::Message() << size.width << "x" << size.height);
        const MtmdGrid grid = mtmd_grid(loaded, size);
        const ImageLayout layout =
            dermlens::model::image_layout(loaded.projector, size.width, size.height, grid.n_tokens, grid.columns, grid.rows);
        EXPECT_EQ(layout.tokens(), grid.n_tokens);
        if (grid.rows > 1) {  // a real grid (M-RoPE): the same one
            EXPECT_EQ(layout.grid_columns, grid.columns);
            EXPECT_EQ(layout.grid_rows, grid.rows);
        } else {
            EXPECT_EQ(layout.grid_columns, layout.grid_rows);
        }
        EXPECT_EQ(layout.image_width, size.width);
        EXPECT_EQ(layout.image_height, size.height);
    }
}

TEST_P(ImageLayoutAgainstMtmd, CanvasAndContentRectangleAreTheOnesTheEncoderReceives) {
    LoadedModel & loaded = model(GetParam());
    ASSERT_NE(loaded.vision, nullptr);
    for (const ImageSize size : kSizes) {
        SCOPED_TRACE(::testing::Message() << size.width << "x" << size.height);
        const ImageLayout expected = layout_for(loaded, size);
        const GraphView view = encode(loaded, size, uniform_image(size));
        ASSERT_FALSE(view.canvas.empty()) << "the patch convolution's input was not observed";
        EXPECT_EQ(view.canvas_width, expected.canvas_width);
        EXPECT_EQ(view.canvas_height, expected.canvas_height);
        const ContentScan scan = scan_content(view);
        EXPECT_EQ(scan.bounds, content_of(expected));
        EXPECT_EQ(scan.holes, 0) << "the image is not one rectangle on the canvas";
    }
}

TEST_P(ImageLayoutAgainstMtmd, ASquareWhereTheLayoutPutsATokenLandsInThatTokensPatches) {
    LoadedModel & loaded = model(GetParam());
    ASSERT_NE(loaded.vision, nullptr);
    int squares = 0;
    for (const ImageSize size : kSizes) {
        const ImageLayout layout = layout_for(loaded, size);
        const std::vector<unsigned char> plain_rgb = uniform_image(size);
        const GraphView plain = encode(loaded, size, plain_rgb);
        ASSERT_FALSE(plain.patch_embeddings.empty()) << "the patch convolution was not observed";
        // The patch grid tiles the token grid: n_merge patches per token side.
        const int merge = plain.patch_columns / layout.grid_columns;
        EXPECT_EQ(plain.patch_columns, layout.grid_columns * merge);
        EXPECT_EQ(plain.patch_rows, layout.grid_rows * merge);

        const std::array<std::array<int, 2>, 4> targets{{{0, 0},
                                                         {layout.grid_columns - 1, layout.grid_rows - 1},
                                                         {layout.grid_columns / 2, layout.grid_rows / 2},
                                                         {layout.grid_columns - 1, 0}}};
        for (const auto & [column, row] : targets) {
            SCOPED_TRACE(::testing::Message() << size.width << "x" << size.height << " token " << column << "," << row);
            // Aim at the middle of the part of the token's tile that shows image, in canvas pixels.
            const CanvasRect region = intersection(token_tile(layout, column, row), content_of(layout));
            if (region.width < 5 || region.height < 5) {
                continue;  // the tile is (nearly) all padding: nothing of the image lands there
            }
            const double scale = static_cast<double>(size.width) / layout.content_width;  // image px per canvas px
            const double centre_x = (region.x + region.width / 2.0 - layout.content_x) * scale;
            const double centre_y = (region.y + region.height / 2.0 - layout.content_y) * scale;
            const int side = std::max(2, static_cast<int>(0.3 * std::min(region.width, region.height) * scale));
            const int x0 = static_cast<int>(std::lround(centre_x - side / 2.0));
            const int y0 = static_cast<int>(std::lround(centre_y - side / 2.0));
            std::vector<unsigned char> rgb = plain_rgb;
            paint_square(rgb, size, x0, y0, x0 + side, y0 + side);
            const GraphView squared = encode(loaded, size, rgb);
            ++squares;

            // Where the layout maps the square's centre (image -> canvas), and where libmtmd put it.
            const double expected_x = layout.content_x + (x0 + side / 2.0) * layout.content_width / size.width;
            const double expected_y = layout.content_y + (y0 + side / 2.0) * layout.content_height / size.height;
            const auto [seen_x, seen_y] = centre_of_change(plain, squared);
            EXPECT_NEAR(seen_x, expected_x, 1.0);
            EXPECT_NEAR(seen_y, expected_y, 1.0);

            const auto [patch_column, patch_row] = most_changed_patch(plain, squared);
            EXPECT_EQ(patch_column / merge, column);
            EXPECT_EQ(patch_row / merge, row);
        }
    }
    EXPECT_GE(squares, static_cast<int>(kSizes.size()) * 2) << "too few tokens show enough of the image to aim at";
}

INSTANTIATE_TEST_SUITE_P(Architectures, ImageLayoutAgainstMtmd, ::testing::Values(Arch::Gemma3, Arch::Llava, Arch::Qwen2VL),
                         [](const ::testing::TestParamInfo<Arch> & param) {
                             return std::string(dermlens::testmodel::arch_name(param.param));
                         });

ProjectorInfo projector(const std::string & type) {
    ProjectorInfo info;
    info.projector_type = type;
    info.output_dim = 64;
    info.image_size = 224;
    info.patch_size = 14;
    return info;
}

TEST(ImageLayout, RefusesWhatItCannotLayOut) {
    using dermlens::model::image_layout;
    using dermlens::test::expect_error;
    expect_error([] { image_layout(projector("ldp"), 300, 200, 144, 144, 1); }, ErrorKind::InvalidModel, {"'ldp'"});
    expect_error([] { image_layout(projector("gemma3"), 300, 200, 15, 15, 1); }, ErrorKind::InvalidModel,
                 {"gemma3", "15 image tokens", "square"});
    expect_error([] { image_layout(projector("mlp"), 300, 200, 256, 16, 16); }, ErrorKind::InvalidModel,
                 {"mlp", "256 x 1"});
    // 9 x 9 tokens cannot each cover whole 14-px patches of a 224-px canvas (16 patches a side).
    expect_error([] { image_layout(projector("gemma3"), 300, 200, 81, 81, 1); }, ErrorKind::InvalidModel,
                 {"9 x 9", "224"});
    expect_error([] { image_layout(projector("qwen2.5vl_merger"), 300, 200, 77, 11, 6); }, ErrorKind::InvalidModel,
                 {"77 image tokens", "11 x 6"});
    expect_error([] { image_layout(projector("qwen2vl_merger"), 0, 200, 77, 11, 7); }, ErrorKind::InvalidArgument,
                 {"0 x 200"});
}

}  // namespace
