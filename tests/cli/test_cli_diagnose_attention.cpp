// `dermlens diagnose --attention / --heatmap / --mask` end to end through the built CLI on
// a generated tiny Gemma 3: the heat maps and token grids are written per image at the
// image's size and the grid's shape, the statistics agree with the written grid and the
// mask, masks come from --mask or the manifest's `mask` / `box` columns, and bad masks or
// attention options are refused naming the input.
#include "pipeline_fixture.h"

#include "support/run_process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <numeric>

namespace {

namespace fs = std::filesystem;
using dermlens::test::PipelineFixture;
using dermlens::test::ProcessResult;
using dermlens::test::run_process;
using dermlens::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

class CliDiagnoseAttention : public testing::Test {
protected:
    static void SetUpTestSuite() {
        fixture_ = new PipelineFixture("cli_attention");
        dir_ = fixture_->dir.path();
        // lesion0.png is 128 x 96 with its lesion a disc of radius 30 at (40, 48): the same disc as its mask.
        lesion_ = fixture_->images[0];
        mask_ = dir_ / "lesion0_mask.png";
        cv::Mat1b mask(96, 128, uchar(0));
        cv::circle(mask, {40, 48}, 30, cv::Scalar(255), cv::FILLED);
        cv::imwrite(mask_.string(), mask);
        mask_fraction_ = static_cast<double>(cv::countNonZero(mask)) / static_cast<double>(mask.total());
    }
    static void TearDownTestSuite() { delete fixture_; }

    static ProcessResult diagnose(std::vector<std::string> extra) {
        std::vector<std::string> argv{DERMLENS_CLI, "diagnose", "--labels", "melanoma,nevus,basal cell carcinoma"};
        const auto model = fixture_->model_args();
        argv.insert(argv.end(), model.begin(), model.end());
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_process(argv);
    }

    static inline PipelineFixture * fixture_ = nullptr;
    static inline fs::path dir_;
    static inline fs::path lesion_;
    static inline fs::path mask_;
    static inline double mask_fraction_ = 0;
};

// The grid numpy reads from a .npy file, and its shape.
json numpy_grid(const fs::path & npy) {
    const ProcessResult python = run_process(
        {DERMLENS_PYTHON, "-c",
         "import json, sys, numpy; a = numpy.load(sys.argv[1]); "
         "print(json.dumps({'dtype': str(a.dtype), 'shape': list(a.shape), 'values': a.ravel().tolist()}))",
         npy.string()});
    EXPECT_EQ(python.exit_code, 0) << python.err;
    return json::parse(python.out);
}

void expect_histogram_sums_to_one(const json & map) {
    double sum = 0;
    for (const auto & bin : map.at("weight_histogram")) {
        sum += bin.at("token_fraction").get<double>();
    }
    EXPECT_NEAR(sum, 1.0, 1e-9);
}

TEST_F(CliDiagnoseAttention, HeatmapsGridsAndStatisticsPerImage) {
    const fs::path heatmaps = dir_ / "heatmaps";
    const auto result = diagnose({"--strategy", "describe-then-decide", "--heatmap", heatmaps.string(), "--mask",
                                  mask_.string(), "--json", lesion_.string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const json report = json::parse(result.out).at(0);
    const json & grounding = report.at("grounding");
    const int columns = grounding.at("token_grid").at("columns");
    const int rows = grounding.at("token_grid").at("rows");
    EXPECT_EQ(grounding.at("mask"), "file");

    const fs::path folder = heatmaps / lesion_.stem();
    for (const std::string name : {"label", "all"}) {
        SCOPED_TRACE(name);
        const json & map = grounding.at("maps").at(name);
        EXPECT_GT(map.at("steps").get<int>(), 0);
        EXPECT_EQ(map.at("tokens").get<int>(), columns * rows);
        expect_histogram_sums_to_one(map);
        EXPECT_NEAR(map.at("lesion").at("area_share").get<double>(), mask_fraction_, 1e-9);
        const double mass = map.at("lesion").at("mass_share");
        EXPECT_GE(mass, 0.0);
        EXPECT_LE(mass, 1.0);

        const cv::Mat overlay = cv::imread((folder / (name + ".png")).string(), cv::IMREAD_COLOR);
        ASSERT_FALSE(overlay.empty());
        EXPECT_EQ(overlay.cols, 128);
        EXPECT_EQ(overlay.rows, 96);

        // The .npy grid is the map the statistics describe: its normalised maximum is at least
        // the top-decile share spread over the top-decile tokens.
        const json grid = numpy_grid(folder / (name + ".npy"));
        EXPECT_EQ(grid.at("dtype"), "float32");
        EXPECT_EQ(grid.at("shape"), json::array({rows, columns}));
        std::vector<double> values = grid.at("values").get<std::vector<double>>();
        const double total = std::accumulate(values.begin(), values.end(), 0.0);
        std::sort(values.rbegin(), values.rend());
        const auto decile = static_cast<std::size_t>(map.at("top_decile_tokens").get<int>());
        const double top = std::accumulate(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(decile), 0.0);
        EXPECT_NEAR(top / total, map.at("top_decile_share").get<double>(), 1e-5);
    }
    // Describe-then-decide with option scoring: the label map is the scored step's alone.
    EXPECT_EQ(grounding.at("maps").at("label").at("steps"), 1);
    EXPECT_EQ(grounding.at("maps").at("label").at("source"), "decision step");
    EXPECT_EQ(grounding.at("files").size(), 4u);
}

TEST_F(CliDiagnoseAttention, AttentionIsReproducible) {
    const auto first = diagnose({"--attention", "--json", lesion_.string()});
    const auto second = diagnose({"--attention", "--json", lesion_.string()});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    ASSERT_EQ(second.exit_code, 0) << second.err;
    const json a = json::parse(first.out).at(0).at("grounding");
    EXPECT_EQ(a, json::parse(second.out).at(0).at("grounding"));
    EXPECT_TRUE(a.at("mask").is_null());
    EXPECT_FALSE(a.at("maps").at("all").contains("lesion"));
}

TEST_F(CliDiagnoseAttention, TextReportShowsTheMaps) {
    const auto result = diagnose({"--mask", mask_.string(), lesion_.string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr("attention ("));
    EXPECT_THAT(result.out, HasSubstr("lesion mask: file"));
    EXPECT_THAT(result.out, HasSubstr("m_label"));
    EXPECT_THAT(result.out, HasSubstr("on the lesion"));
}

TEST_F(CliDiagnoseAttention, ManifestMaskAndBoxColumns) {
    const fs::path manifest = dir_ / "masked.csv";
    write_file(manifest, "image,label,mask,box\n"
                         "lesion0.png,melanoma,lesion0_mask.png,\n"
                         "lesion2.png,melanoma,,\"10,10,60,50\"\n"
                         "lesion4.png,melanoma,,\n");
    const auto result = diagnose({"--attention", "--json", "--manifest", manifest.string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const json reports = json::parse(result.out);
    ASSERT_EQ(reports.size(), 3u);
    EXPECT_EQ(reports[0].at("grounding").at("mask"), "file");
    EXPECT_EQ(reports[1].at("grounding").at("mask"), "box");
    EXPECT_NEAR(reports[1].at("grounding").at("maps").at("all").at("lesion").at("area_share").get<double>(),
                50.0 * 40.0 / (128.0 * 104.0), 1e-9);  // lesion2.png is 128 x 104
    EXPECT_TRUE(reports[2].at("grounding").at("mask").is_null());
}

TEST_F(CliDiagnoseAttention, MaskOfAnotherSizeFailsThatImageNamingBoth) {
    const fs::path small = dir_ / "small_mask.png";
    cv::imwrite(small.string(), cv::Mat1b(10, 10, uchar(255)));
    const auto result = diagnose({"--mask", small.string(), lesion_.string()});
    EXPECT_EQ(result.exit_code, 3) << result.err;
    EXPECT_THAT(result.err, HasSubstr(small.string()));
    EXPECT_THAT(result.err, HasSubstr("10x10"));
    EXPECT_THAT(result.err, HasSubstr("128x96"));
}

TEST_F(CliDiagnoseAttention, BadOptionsAreRefusedBeforeAnyModelLoads) {
    const auto two_images = diagnose({"--mask", mask_.string(), lesion_.string(), lesion_.string()});
    EXPECT_EQ(two_images.exit_code, 2);
    EXPECT_THAT(two_images.err, HasSubstr("--mask"));
    const auto bad_layers = diagnose({"--attention", "--attention-layers", "5", lesion_.string()});
    EXPECT_EQ(bad_layers.exit_code, 2);
    EXPECT_THAT(bad_layers.err, HasSubstr("FIRST:LAST"));
    const auto bad_reduce = diagnose({"--attention", "--attention-reduce", "median", lesion_.string()});
    EXPECT_EQ(bad_reduce.exit_code, 2);
    EXPECT_THAT(bad_reduce.err, HasSubstr("mean or max"));
    const auto flash = diagnose({"--attention", "--flash-attn", "on", lesion_.string()});
    EXPECT_EQ(flash.exit_code, 2);
    EXPECT_THAT(flash.err, HasSubstr("flash attention off"));
    const auto missing_layer = diagnose({"--attention", "--attention-layers", "0:99", lesion_.string()});
    EXPECT_NE(missing_layer.exit_code, 0);
    EXPECT_THAT(missing_layer.err, HasSubstr("do not exist"));
}

}  // namespace
