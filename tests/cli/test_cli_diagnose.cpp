// `dermlens diagnose` and `dermlens demo` end to end through the built CLI, on
// generated tiny models: every strategy of the re-ranking pipeline with its report,
// clinical context from options and manifest columns, the embedding cache sparing the
// encoder, reproducible JSON, and every bad input refused with its exit code and a
// message naming the input and the reason.
#include "pipeline_fixture.h"

#include "model/testmodel.h"
#include "support/run_process.h"

#include <gguf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <numeric>

namespace {

namespace fs = std::filesystem;
using dermlens::test::PipelineFixture;
using dermlens::test::ProcessResult;
using dermlens::test::run_process;
using dermlens::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

constexpr const char * kLabels = "melanoma,nevus,basal cell carcinoma";

class CliDiagnose : public testing::Test {
protected:
    static void SetUpTestSuite() {
        fixture_ = new PipelineFixture("cli_diagnose");
        dir_ = fixture_->dir.path();
        gemma3_ = fixture_->gemma3;
        dermlens::testmodel::Options options;
        options.arch = dermlens::testmodel::Arch::Llava;
        options.out_dir = dir_ / "llava";
        llava_ = dermlens::testmodel::make_test_model(options);
        lesion_a_ = fixture_->images[0];
        lesion_b_ = fixture_->images[1];
        corrupt_ = dir_ / "corrupt.jpg";
        write_file(corrupt_, "\xFF\xD8\xFF\xE0 this JPEG stops here");
    }
    static void TearDownTestSuite() { delete fixture_; }

    static ProcessResult diagnose(const fs::path & model, const fs::path & mmproj, std::vector<std::string> images,
                                  std::vector<std::string> extra = {}) {
        std::vector<std::string> argv{DERMLENS_CLI, "diagnose", "--model", model.string(), "--mmproj",
                                      mmproj.string(), "--labels", kLabels, "--threads", "1"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.insert(argv.end(), images.begin(), images.end());
        return run_process(argv);
    }

    static ProcessResult diagnose_json(std::vector<std::string> images) {
        return diagnose(gemma3_.model, gemma3_.mmproj, std::move(images), {"--json"});
    }

    // `diagnose` with the fixture's probe (its classes are the labels) and `options`.
    static ProcessResult diagnose_with_probe(std::vector<std::string> options) {
        std::vector<std::string> argv{DERMLENS_CLI, "diagnose", "--probe", fixture_->probe.string()};
        const auto model = fixture_->model_args();
        argv.insert(argv.end(), model.begin(), model.end());
        argv.insert(argv.end(), options.begin(), options.end());
        return run_process(argv);
    }

    // Expects a refusal with `exit_code` and a stderr message holding every fragment.
    static void expect_refused(const ProcessResult & result, int exit_code,
                               std::initializer_list<std::string> fragments) {
        EXPECT_EQ(result.exit_code, exit_code) << result.err;
        for (const auto & fragment : fragments) {
            EXPECT_NE(result.err.find(fragment), std::string::npos) << result.err << "\nlacks: " << fragment;
        }
    }

    static inline PipelineFixture * fixture_ = nullptr;
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

double sum_of(const json & candidates, const char * side) {
    double sum = 0;
    for (const auto & candidate : candidates) {
        sum += candidate.at(side).get<double>();
    }
    return sum;
}

// Every probability of the report is a probability, and each side sums to 1 over the candidates.
void expect_probabilities(const json & report) {
    const json & candidates = report.at("candidates");
    ASSERT_GE(candidates.size(), 2u) << report.dump(2);
    for (const auto & candidate : candidates) {
        for (const char * side : {"vlm", "fused"}) {
            EXPECT_GE(candidate.at(side).get<double>(), 0.0) << side << " " << candidate.dump();
            EXPECT_LE(candidate.at(side).get<double>(), 1.0) << side << " " << candidate.dump();
        }
        if (!candidate.at("probe").is_null()) {
            EXPECT_GE(candidate.at("probe").get<double>(), 0.0) << candidate.dump();
        }
    }
    EXPECT_NEAR(sum_of(candidates, "fused"), 1.0, 1e-9);
    EXPECT_NEAR(sum_of(candidates, "vlm"), 1.0, 1e-9);
    ASSERT_EQ(report.at("differential").size(), candidates.size());
    double previous = 1.0;
    for (const auto & entry : report.at("differential")) {
        EXPECT_LE(entry.at("probability").get<double>(), previous + 1e-12);
        previous = entry.at("probability").get<double>();
    }
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
    EXPECT_EQ(a[0]["image"]["encoding"], "encoder");
    EXPECT_EQ(a[0]["strategy"], "direct");
    EXPECT_EQ(a[0]["decide"], "score");
    EXPECT_EQ(a[0]["candidates_from"], "labels");
    ASSERT_EQ(a[0]["candidates"].size(), 3u);
    EXPECT_EQ(a[0]["candidates"][0]["marker"], "A");
    EXPECT_EQ(a[0]["candidates"][2]["label"], "basal cell carcinoma");
    EXPECT_EQ(a[0]["candidates"][2]["condition"], "basal_cell_carcinoma");
    EXPECT_TRUE(a[0]["candidates"][0]["probe"].is_null());  // no probe given
    EXPECT_EQ(a[0]["model"]["sha256"].get<std::string>().size(), 64u);
    expect_probabilities(a[0]);
    // Without a probe nothing is fused: the VLM's probabilities decide.
    EXPECT_TRUE(a[0]["fusion_weight"].is_null());
    for (const auto & candidate : a[0]["candidates"]) {
        EXPECT_DOUBLE_EQ(candidate["fused"].get<double>(), candidate["vlm"].get<double>());
    }
    const json & final = a[0]["final_diagnosis"];
    ASSERT_TRUE(final.is_object()) << a[0].dump(2);
    EXPECT_EQ(final["label"], a[0]["differential"][0]["label"]);
    EXPECT_DOUBLE_EQ(final["probability"].get<double>(), a[0]["differential"][0]["probability"].get<double>());
    EXPECT_EQ(final["taxonomy_path"].back(), final["condition"]);
    EXPECT_FALSE(a[0]["abstained"].get<bool>());
    EXPECT_TRUE(a[0]["description"].is_null());
    EXPECT_TRUE(a[0]["answer"].is_null());
    EXPECT_TRUE(a[0]["clinical_context"].is_null());
    EXPECT_GT(a[0]["timings"]["encode_ms"].get<double>(), 0.0);
    EXPECT_GT(a[0]["timings"]["prompt_tokens"].get<int>(), 0);
}

TEST_F(CliDiagnose, TextOutputByDefault) {
    const auto result = diagnose(gemma3_.model, gemma3_.mmproj, {lesion_a_.string()}, {"--age", "61"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr(lesion_a_.string()));
    EXPECT_THAT(result.out, HasSubstr("diagnosis:"));
    EXPECT_THAT(result.out, HasSubstr("taxonomy:"));
    EXPECT_THAT(result.out, HasSubstr("(C) basal cell carcinoma"));
    EXPECT_THAT(result.out, HasSubstr("Patient: 61-year-old."));
    EXPECT_THAT(result.out, HasSubstr("timing:"));
    EXPECT_THAT(result.err, HasSubstr("diagnose: 1 images: 1 encoded, 0 from the embedding cache, 0 failed"));
}

// The image-quality gate (docs/quality.md): reported for every image; with --quality reject a
// rejected image (a real photo darkened) is refused without being diagnosed, the other is
// diagnosed, and the exit code stays 0.
TEST_F(CliDiagnose, QualityGateIsReportedAndRejectedImagesAreRefusedOnRequest) {
    const fs::path photo = fs::path(DERMLENS_SHARED_DIR) / "data/images/ham10000/nv/ISIC_0024311.jpg";
    const cv::Mat original = cv::imread(photo.string());
    ASSERT_FALSE(original.empty()) << photo;
    const fs::path dark = dir_ / "dark.png";
    cv::imwrite(dark.string(), original * 0.1);

    const auto result = diagnose(gemma3_.model, gemma3_.mmproj, {photo.string(), dark.string()},
                                 {"--json", "--quality", "reject"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const json reports = json::parse(result.out);
    ASSERT_EQ(reports.size(), 2u);
    EXPECT_NE(reports[0]["quality"]["overall"], "reject") << reports[0]["quality"].dump(2);
    EXPECT_EQ(reports[0]["quality"]["checks"].size(), 13u);
    EXPECT_TRUE(reports[0]["differential"].is_array());
    EXPECT_GT(reports[0]["timings"]["quality_ms"].get<double>(), 0.0);
    EXPECT_EQ(reports[1]["quality"]["overall"], "reject");
    EXPECT_FALSE(reports[1].contains("differential"));
    EXPECT_THAT(reports[1]["refused"].get<std::string>(), HasSubstr("too dark to judge colour and structure"));
    EXPECT_THAT(result.err, HasSubstr("0 failed, 1 refused by the quality gate"));

    const auto off = diagnose(gemma3_.model, gemma3_.mmproj, {dark.string()}, {"--json", "--quality", "off"});
    ASSERT_EQ(off.exit_code, 0) << off.err;
    EXPECT_FALSE(json::parse(off.out).at(0).contains("quality"));
    const auto text = diagnose(gemma3_.model, gemma3_.mmproj, {dark.string()}, {"--quality", "reject"});
    EXPECT_THAT(text.out, HasSubstr("refused: the image-quality gate rejected it: reject: too dark"));
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {dark.string()}, {"--quality", "sometimes"}), 2,
                   {"--quality 'sometimes': must be off, report or reject"});
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {dark.string()}, {"--quality-thresholds", "none.json"}), 2,
                   {"--quality-thresholds 'none.json': no such file"});
}

// Each strategy end to end on one image, with the probe so that every side is reported.
TEST_F(CliDiagnose, EveryStrategyReportsProbabilitiesThatSumToOne) {
    for (const std::string strategy : {"direct", "in-context", "describe-then-decide", "topk", "combined"}) {
        SCOPED_TRACE(strategy);
        const auto result = diagnose_with_probe({"--strategy", strategy, "--json", lesion_a_.string()});
        ASSERT_EQ(result.exit_code, 0) << result.err;
        const json report = json::parse(result.out).at(0);
        EXPECT_EQ(report["strategy"], strategy);
        expect_probabilities(report);
        for (const auto & candidate : report["candidates"]) {
            ASSERT_TRUE(candidate["probe"].is_number()) << candidate.dump();
        }
        EXPECT_NEAR(sum_of(report["candidates"], "probe"), 1.0, 1e-9);
        const bool probe_candidates = strategy == "topk" || strategy == "combined";
        EXPECT_EQ(report["candidates_from"], probe_candidates ? "topk" : "labels");
        const bool describes = strategy == "describe-then-decide" || strategy == "combined";
        ASSERT_EQ(report["description"].is_object(), describes) << report.dump(2);
        if (describes) {
            EXPECT_EQ(report["description"]["schema"], "five-criteria");
            EXPECT_EQ(report["description"]["fields"].size(), 5u);
            EXPECT_TRUE(report["description"]["fields"].contains("lesion_type")) << report["description"].dump();
            EXPECT_FALSE(report["description"]["raw_text"].get<std::string>().empty());
            EXPECT_GT(report["timings"]["describe_ms"].get<double>(), 0.0);
        }
        // The fixture's probe has no fusion weight yet (tune sets one): the VLM decides.
        EXPECT_TRUE(report["fusion_weight"].is_null());
    }
}

TEST_F(CliDiagnose, FreeAnswerInAPaperStyleIsParsedOrCountedUnparseable) {
    const auto result = diagnose(gemma3_.model, gemma3_.mmproj, {lesion_a_.string()},
                                 {"--json", "--decide", "generate", "--style", "skin-r1", "--max-tokens", "8"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const json report = json::parse(result.out).at(0);
    EXPECT_EQ(report["style"], "skin-r1");
    EXPECT_EQ(report["decide"], "generate");
    ASSERT_TRUE(report["answer"].is_object());
    const std::string status = report["answer"]["parse_status"];
    EXPECT_THAT(status, testing::AnyOf("letter", "label_name", "synonym", "unparseable"));
    // An unparseable answer gives no diagnosis and says why; a parsed one names its option.
    EXPECT_EQ(report["final_diagnosis"].is_null(), status == "unparseable" || report["abstained"].get<bool>());
    EXPECT_EQ(report["answer"]["problem"].is_null(), status != "unparseable");
    EXPECT_LE(report["timings"]["generated_tokens"].get<int>(), 8);
    expect_probabilities(report);
}

TEST_F(CliDiagnose, AbstainsBelowTheThresholdAndSaysWhy) {
    const auto result = diagnose(gemma3_.model, gemma3_.mmproj, {lesion_a_.string()},
                                 {"--json", "--not-sure", "--abstain-below", "0.99"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const json report = json::parse(result.out).at(0);
    EXPECT_TRUE(report["abstained"].get<bool>()) << report.dump(2);
    EXPECT_FALSE(report["abstain_reason"].get<std::string>().empty());
    EXPECT_TRUE(report["final_diagnosis"].is_null());
    ASSERT_TRUE(report["not_sure_probability"].is_number());
    EXPECT_GE(report["not_sure_probability"].get<double>(), 0.0);
    EXPECT_EQ(report["candidates"].size(), 3u);  // the not-sure option is not a candidate
    EXPECT_TRUE(report["settings"]["not_sure_option"].get<bool>());
}

// Context from the manifest's columns, per image; an option may not give what a column gives.
TEST_F(CliDiagnose, ManifestSuppliesImagesAndClinicalContext) {
    const fs::path manifest = dir_ / "context.csv";
    write_file(manifest, "image,label,age,sex,site\n" + lesion_a_.string() + ",melanoma,54,female,upper back\n" +
                             lesion_b_.string() + ",nevus,,,\n");
    const auto result = diagnose(gemma3_.model, gemma3_.mmproj, {}, {"--json", "--manifest", manifest.string(),
                                                                    "--history", "growing for a year"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const json reports = json::parse(result.out);
    ASSERT_EQ(reports.size(), 2u);
    EXPECT_EQ(reports[0]["image"]["path"], lesion_a_.string());
    const json & context = reports[0]["clinical_context"];
    EXPECT_EQ(context["age"], 54);
    EXPECT_EQ(context["sex"], "female");
    EXPECT_EQ(context["site"], "upper back");
    EXPECT_EQ(context["history"], "growing for a year");
    EXPECT_EQ(context["prompt_text"],
              "Patient: 54-year-old female; site: upper back; history: growing for a year.");
    EXPECT_EQ(reports[1]["clinical_context"], json({{"history", "growing for a year"},
                                                    {"prompt_text", "Patient: history: growing for a year."}}));

    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {}, {"--manifest", manifest.string(), "--age", "30"}), 2,
                   {"--age", "'age' column", manifest.string()});
    const fs::path bad = dir_ / "bad-age.csv";
    write_file(bad, "image,label,age\n" + lesion_a_.string() + ",melanoma,old\n");
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {}, {"--manifest", bad.string()}), 3,
                   {bad.string(), "line 2", "age 'old'"});
}

// The encoder runs once per image and never for an image the cache holds.
TEST_F(CliDiagnose, CachedImagesAreNotEncodedAgain) {
    const fs::path cache = dir_ / "diagnose-cache.sqlite";
    const std::vector<std::string> images{lesion_a_.string(), lesion_b_.string()};
    const auto first = diagnose(gemma3_.model, gemma3_.mmproj, images, {"--json", "--cache", cache.string()});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_THAT(first.err, HasSubstr("2 images: 2 encoded, 0 from the embedding cache"));
    const auto second = diagnose(gemma3_.model, gemma3_.mmproj, images, {"--json", "--cache", cache.string()});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_THAT(second.err, HasSubstr("2 images: 0 encoded, 2 from the embedding cache"));
    const json a = json::parse(first.out);
    const json b = json::parse(second.out);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(a[i]["image"]["encoding"], "encoder");
        EXPECT_EQ(b[i]["image"]["encoding"], "cache");
        EXPECT_GT(a[i]["timings"]["encode_ms"].get<double>(), 0.0);
        EXPECT_EQ(b[i]["timings"]["encode_ms"].get<double>(), 0.0);
        EXPECT_EQ(b[i]["image"]["width"], a[i]["image"]["width"]);
        EXPECT_EQ(b[i]["candidates"], a[i]["candidates"]);  // the same encoding, the same answer
    }
}

// --no-prefix-reuse evaluates every prompt whole: nothing is served from the KV cache, and the
// answers are the very numbers reuse gives (describe-then-decide, whose decision reuses the image).
TEST_F(CliDiagnose, WithoutPrefixReuseEveryPromptIsEvaluatedWholeWithTheSameResults) {
    const std::vector<std::string> images{lesion_a_.string(), lesion_b_.string()};
    const std::vector<std::string> options{"--json", "--strategy", "describe-then-decide"};
    const auto reused = diagnose(gemma3_.model, gemma3_.mmproj, images, options);
    std::vector<std::string> whole_options = options;
    whole_options.push_back("--no-prefix-reuse");
    const auto whole = diagnose(gemma3_.model, gemma3_.mmproj, images, whole_options);
    ASSERT_EQ(reused.exit_code, 0) << reused.err;
    ASSERT_EQ(whole.exit_code, 0) << whole.err;
    const json a = json::parse(reused.out);
    const json b = json::parse(whole.out);
    ASSERT_EQ(a.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_GT(a[i]["timings"]["reused_tokens"].get<int>(), 0) << i;
        EXPECT_EQ(b[i]["timings"]["reused_tokens"].get<int>(), 0) << i;
        EXPECT_EQ(b[i]["timings"]["prompt_tokens"], a[i]["timings"]["prompt_tokens"]) << i;
    }
    EXPECT_EQ(without_timings(a), without_timings(b));
}

// The direct strategy offers every label: a conformal set asked for there would be ignored.
TEST_F(CliDiagnose, ConformalCandidatesNeedAStrategyThatTakesTheProbes) {
    expect_refused(diagnose_with_probe({"--candidates", "conformal", lesion_a_.string()}), 2,
                   {"--candidates", "'direct' offers every label", "topk, combined"});
}

TEST_F(CliDiagnose, OptionsThatDoNotFitAreRefusedBeforeAnyModelLoads) {
    const std::string image = lesion_a_.string();
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {image}, {"--strategy", "topk"}), 2,
                   {"--strategy topk", "--probe"});
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {image}, {"--style", "skinvl"}), 2,
                   {"skinvl", "--decide generate"});
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {image}, {"--strategy", "best"}), 2,
                   {"'best'", "describe-then-decide"});
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {image}, {"--age", "forty"}), 2, {"--age 'forty'"});
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {image}, {"--age", "130"}), 2, {"age 130"});
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {image}, {"--alpha", "0.1"}), 2,
                   {"--alpha", "--candidates conformal"});
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {}), 2, {"--manifest"});
    expect_refused(diagnose_with_probe({"--labels", "melanoma,nevus", image}), 2, {"--labels", "probe"});
    expect_refused(run_process({DERMLENS_CLI, "diagnose", "--model", gemma3_.model.string(), "--mmproj",
                                gemma3_.mmproj.string(), image}),
                   2, {"--labels", "--label-set"});
    expect_refused(diagnose(gemma3_.model, gemma3_.mmproj, {image}, {"--top-k", "many"}), 2, {"--top-k"});
}

TEST_F(CliDiagnose, CorruptImageAmongGoodOnesIsReportedAndOthersRun) {
    const auto result = diagnose_json({lesion_a_.string(), corrupt_.string(), lesion_b_.string()});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.err.find(corrupt_.string()), std::string::npos) << result.err;
    const json results = json::parse(result.out);
    ASSERT_EQ(results.size(), 3u);
    EXPECT_TRUE(results[0].contains("candidates"));
    EXPECT_EQ(results[1]["error"]["kind"], "invalid_input");
    EXPECT_THAT(results[1]["error"]["message"].get<std::string>(), HasSubstr(corrupt_.string()));
    EXPECT_TRUE(results[2].contains("candidates"));
    EXPECT_THAT(result.err, HasSubstr("3 images: 2 encoded, 0 from the embedding cache, 1 failed"));
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
    // Labels name conditions of the knowledge base: one it does not know is refused by name.
    expect_refused(run_process({DERMLENS_CLI, "diagnose", "--model", gemma3_.model.string(), "--mmproj",
                                gemma3_.mmproj.string(), "--labels", "melanoma,unicornitis", lesion_a_.string()}),
                   2, {"unicornitis"});
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
    const auto result = run_process({DERMLENS_CLI, "demo", "--threads", "1"},
                                    {{"DERMLENS_CACHE_DIR", (dir_ / "cache").string()}});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("UNTRAINED DEMONSTRATION WEIGHTS"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("diagnosis:"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("description:"), std::string::npos) << result.out;  // describe-then-decide by default
    EXPECT_TRUE(fs::exists(dir_ / "cache" / "demo" / "gemma3-tiny-seed0" / "model.gguf"));
}

}  // namespace
