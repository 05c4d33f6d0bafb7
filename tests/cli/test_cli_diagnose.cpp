// `dermlens diagnose` and `dermlens demo` end to end through the built CLI, on
// generated tiny models: reproducible JSON, and every bad input refused with a
// non-zero exit code and a message naming the file and the reason.
#include "model/testmodel.h"
#include "support/run_process.h"

#include <gguf.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using dermlens::test::ProcessResult;
using dermlens::test::run_process;
using nlohmann::json;

constexpr const char * kLabels = "melanoma,nevus,basal cell carcinoma";

class CliDiagnose : public testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("dermlens_cli_" + std::to_string(::getpid()));
        gemma3_ = make(dermlens::testmodel::Arch::Gemma3);
        llava_ = make(dermlens::testmodel::Arch::Llava);
        lesion_a_ = write_png("lesion_a.png", 0);
        lesion_b_ = write_png("lesion_b.png", 1);
        corrupt_ = dir_ / "corrupt.jpg";
        std::ofstream(corrupt_, std::ios::binary) << "\xFF\xD8\xFF\xE0 this JPEG stops here";
    }
    static void TearDownTestSuite() { fs::remove_all(dir_); }

    static dermlens::testmodel::Files make(dermlens::testmodel::Arch arch) {
        dermlens::testmodel::Options options;
        options.arch = arch;
        options.out_dir = dir_ / std::string(dermlens::testmodel::arch_name(arch));
        return dermlens::testmodel::make_test_model(options);
    }

    static fs::path write_png(const std::string & name, int variant) {
        cv::Mat image(120, 160, CV_8UC3, cv::Scalar(150, 170, 210));
        cv::circle(image, {80 + variant * 20, 60}, 30 + variant * 10, cv::Scalar(40, 60, 90), cv::FILLED);
        const fs::path path = dir_ / name;
        cv::imwrite(path.string(), image);
        return path;
    }

    static ProcessResult diagnose(const fs::path & model, const fs::path & mmproj, std::vector<std::string> images,
                                  std::vector<std::string> extra = {}) {
        std::vector<std::string> argv{DERMLENS_CLI, "diagnose",    "--model",   model.string(), "--mmproj",
                                      mmproj.string(), "--labels", kLabels,     "--threads",    "2",
                                      "--max-tokens",  "6"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.insert(argv.end(), images.begin(), images.end());
        return run_process(argv);
    }

    static ProcessResult diagnose_json(std::vector<std::string> images) {
        return diagnose(gemma3_.model, gemma3_.mmproj, std::move(images), {"--json"});
    }

    // Expects a refusal with `exit_code` and a stderr message holding every fragment.
    static void expect_refused(const ProcessResult & result, int exit_code,
                               std::initializer_list<std::string> fragments) {
        EXPECT_EQ(result.exit_code, exit_code) << result.err;
        for (const auto & fragment : fragments) {
            EXPECT_NE(result.err.find(fragment), std::string::npos) << result.err << "\nlacks: " << fragment;
        }
    }

    static inline fs::path dir_;
    static inline dermlens::testmodel::Files gemma3_;
    static inline dermlens::testmodel::Files llava_;
    static inline fs::path lesion_a_;
    static inline fs::path lesion_b_;
    static inline fs::path corrupt_;
};

json without_timings(json results) {
    for (auto & result : results) {
        result.erase("timings");
    }
    return results;
}

TEST_F(CliDiagnose, JsonIsReproducibleApartFromTimings) {
    const auto first = diagnose_json({lesion_a_.string(), lesion_b_.string()});
    const auto second = diagnose_json({lesion_a_.string(), lesion_b_.string()});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    ASSERT_EQ(second.exit_code, 0) << second.err;
    const json a = json::parse(first.out);
    const json b = json::parse(second.out);
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(without_timings(a), without_timings(b));
    EXPECT_EQ(a[0]["image"]["path"], lesion_a_.string());
    EXPECT_EQ(a[0]["strategy"], "direct");
    EXPECT_EQ(a[0]["options"].size(), 3u);
    EXPECT_EQ(a[0]["model"]["sha256"].get<std::string>().size(), 64u);
    EXPECT_TRUE(a[0]["answer"]["parse_status"].is_string());
    EXPECT_GT(a[0]["timings"]["image_encode_ms"].get<double>(), 0.0);
}

TEST_F(CliDiagnose, TextOutputByDefault) {
    const auto result = diagnose(gemma3_.model, gemma3_.mmproj, {lesion_a_.string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find(lesion_a_.string()), std::string::npos);
    EXPECT_NE(result.out.find("answer:"), std::string::npos);
    EXPECT_NE(result.out.find("image encode"), std::string::npos);
}

TEST_F(CliDiagnose, CorruptImageAmongGoodOnesIsReportedAndOthersRun) {
    const auto result = diagnose_json({lesion_a_.string(), corrupt_.string(), lesion_b_.string()});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.err.find(corrupt_.string()), std::string::npos) << result.err;
    const json results = json::parse(result.out);
    ASSERT_EQ(results.size(), 3u);
    EXPECT_TRUE(results[0].contains("answer"));
    EXPECT_EQ(results[1]["error"]["kind"], "invalid_input");
    EXPECT_TRUE(results[2].contains("answer"));
}

TEST_F(CliDiagnose, MissingImage) {
    const fs::path missing = dir_ / "absent.jpg";
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {missing.string()}), 3, {missing.string()});
}

TEST_F(CliDiagnose, MissingModel) {
    const fs::path missing = dir_ / "absent.gguf";
    expect_refused(diagnose(missing, gemma3_.mmproj, {lesion_a_.string()}), 4, {missing.string(), "not found"});
}

TEST_F(CliDiagnose, NotGguf) {
    expect_refused(diagnose(lesion_a_, gemma3_.mmproj, {lesion_a_.string()}), 4,
                   {lesion_a_.string(), "not a GGUF"});
}

TEST_F(CliDiagnose, TruncatedModel) {
    const fs::path cut = dir_ / "cut.gguf";
    fs::copy_file(gemma3_.model, cut, fs::copy_options::overwrite_existing);
    fs::resize_file(cut, fs::file_size(cut) / 2);
    expect_refused(diagnose(cut, gemma3_.mmproj, {lesion_a_.string()}), 4, {cut.string(), "truncated"});
}

TEST_F(CliDiagnose, MismatchedProjector) {
    expect_refused(diagnose(gemma3_.model, llava_.mmproj, {lesion_a_.string()}), 4,
                   {llava_.mmproj.string(), "does not belong"});
}

TEST_F(CliDiagnose, UnsupportedArchitecture) {
    const fs::path bert = dir_ / "bert.gguf";
    gguf_context * ctx = gguf_init_empty();
    gguf_set_val_str(ctx, "general.architecture", "bert");
    gguf_write_to_file(ctx, bert.c_str(), false);
    gguf_free(ctx);
    expect_refused(diagnose(bert, gemma3_.mmproj, {lesion_a_.string()}), 4, {bert.string(), "unsupported architecture"});
}

TEST_F(CliDiagnose, BadLabels) {
    expect_refused(run_process({DERMLENS_CLI, "diagnose", "--model", gemma3_.model.string(), "--mmproj",
                                gemma3_.mmproj.string(), "--labels", "melanoma", lesion_a_.string()}),
                   2, {"labels"});
}

// Model files and runtime options can come from the environment, as in llama.cpp's tools.
TEST_F(CliDiagnose, EnvironmentSuppliesModelFilesAndOptions) {
    const std::vector<std::pair<std::string, std::string>> env{{"DERMLENS_MODEL", gemma3_.model.string()},
                                                               {"DERMLENS_MMPROJ", gemma3_.mmproj.string()},
                                                               {"DERMLENS_MAX_TOKENS", "3"}};
    const auto result = run_process({DERMLENS_CLI, "diagnose", "--labels", kLabels, "--json", lesion_a_.string()}, env);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(json::parse(result.out).at(0).at("settings").at("max_tokens"), 3);
    expect_refused(run_process({DERMLENS_CLI, "diagnose", "--labels", kLabels, lesion_a_.string()},
                               {{"DERMLENS_MODEL", gemma3_.model.string()},
                                {"DERMLENS_MMPROJ", gemma3_.mmproj.string()},
                                {"DERMLENS_THREADS", "0"}}),
                   2, {"threads must be positive"});
}

TEST_F(CliDiagnose, DemoIsLabelledUntrained) {
    const auto result = run_process({DERMLENS_CLI, "demo", "--threads", "2", "--max-tokens", "4"},
                                    {{"DERMLENS_CACHE_DIR", (dir_ / "cache").string()}});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("UNTRAINED DEMONSTRATION WEIGHTS"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("answer:"), std::string::npos) << result.out;
    EXPECT_TRUE(fs::exists(dir_ / "cache" / "demo" / "gemma3-tiny-seed0" / "model.gguf"));
}

}  // namespace
