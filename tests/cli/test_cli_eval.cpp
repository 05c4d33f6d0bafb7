// `dermlens eval` end to end through the built CLI on a generated tiny Gemma 3 model and the
// shared ISIC images: paper000-ablation and skinr1-mcq write every output and their summaries
// agree with their samples; skinvl-zeroshot, probe-sft, granularity (each level recomputed by
// walking the knowledge base) and fairness (a CSV manifest with skin type, sex and age) agree
// with a recomputation from their samples; a run killed with SIGKILL resumes to the summary of an
// uninterrupted run, without a duplicate sample; shards merge to the unsharded run; a sample
// that fails is recorded and the run goes on; bad options and inputs are refused.
#include "eval/run_store.h"
#include "dermlens/kb/knowledge_base.h"
#include "model/testmodel.h"
#include "support/json_lines.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>

namespace {

namespace fs = std::filesystem;
using dermlens::test::ProcessResult;
using dermlens::test::read_json_lines;
using dermlens::test::read_text_file;
using dermlens::test::run_process;
using dermlens::test::TempDir;
using nlohmann::json;
using testing::HasSubstr;

const fs::path kIsic = fs::path(DERMLENS_SHARED_DIR) / "data" / "images" / "isic9class";
const std::vector<std::string> kAblationStrategies{"direct", "in-context", "describe-then-decide", "topk", "combined"};

std::vector<json> samples_of(const fs::path & out) { return read_json_lines(out / "samples.jsonl"); }

json summary_of(const fs::path & out) { return json::parse(read_text_file(out / "summary.json")); }

const json & group_of(const json & summary, const json & config) {
    for (const json & group : summary["groups"]) {
        if (group["config"] == config) {
            return group;
        }
    }
    ADD_FAILURE() << "no group " << config.dump();
    static const json none;
    return none;
}

// Accuracy per configuration (without seed) and seed, recomputed from the samples.
std::map<std::string, std::map<long long, std::pair<int, int>>> hits_per_seed(const std::vector<json> & samples) {
    std::map<std::string, std::map<long long, std::pair<int, int>>> out;
    for (const json & sample : samples) {
        if (sample.contains("error")) {
            continue;
        }
        json config = sample["config"];
        const long long seed = config["seed"];
        config.erase("seed");
        auto & [hits, total] = out[config.dump()][seed];
        hits += !sample["predicted"].is_null() && sample["predicted"] == sample["truth"] ? 1 : 0;
        ++total;
    }
    return out;
}

// Every group's accuracy mean and sample std over seeds equal the samples'.
void expect_accuracy_matches_samples(const json & summary, const std::vector<json> & samples) {
    for (const auto & [config, seeds] : hits_per_seed(samples)) {
        std::vector<double> values;
        for (const auto & [seed, counts] : seeds) {
            values.push_back(static_cast<double>(counts.first) / counts.second);
        }
        double mean = 0, squares = 0;
        for (const double v : values) mean += v / static_cast<double>(values.size());
        for (const double v : values) squares += (v - mean) * (v - mean);
        const double std = values.size() > 1 ? std::sqrt(squares / static_cast<double>(values.size() - 1)) : 0.0;
        const json & group = group_of(summary, json::parse(config));
        EXPECT_NEAR(group["metrics"]["accuracy"]["mean"].get<double>(), mean, 1e-12) << config;
        EXPECT_NEAR(group["metrics"]["accuracy"]["std"].get<double>(), std, 1e-12) << config;
        EXPECT_EQ(group["seeds"], values.size()) << config;
        const json & interval = group["metrics"]["accuracy"]["ci95"];
        EXPECT_LE(interval[0].get<double>(), interval[1].get<double>()) << config;
    }
}

std::set<std::string> keys_of(const std::vector<json> & samples) {
    std::set<std::string> keys;
    for (const json & sample : samples) {
        keys.insert(sample["key"].get<std::string>());
    }
    return keys;
}

// Scikit-learn's scores of (truth, predicted) pairs; an unanswered sample (predicted -1) is a label of its own.
struct Scores {
    double accuracy = 0, macro_precision = 0, macro_recall = 0, macro_f1 = 0, balanced_accuracy = 0;
};

Scores scores_of(const std::vector<std::pair<int, int>> & rows) {
    std::set<int> labels, truths;
    for (const auto & [truth, predicted] : rows) {
        labels.insert({truth, predicted});
        truths.insert(truth);
    }
    Scores scores;
    for (const int label : labels) {
        double tp = 0, fp = 0, fn = 0;
        for (const auto & [truth, predicted] : rows) {
            tp += truth == label && predicted == label ? 1 : 0;
            fp += truth != label && predicted == label ? 1 : 0;
            fn += truth == label && predicted != label ? 1 : 0;
        }
        const double n = static_cast<double>(labels.size());
        const double recall = tp + fn > 0 ? tp / (tp + fn) : 0;
        scores.macro_precision += (tp + fp > 0 ? tp / (tp + fp) : 0) / n;
        scores.macro_recall += recall / n;
        scores.macro_f1 += (tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0) / n;
        scores.balanced_accuracy += truths.contains(label) ? recall / static_cast<double>(truths.size()) : 0;
    }
    for (const auto & [truth, predicted] : rows) {
        scores.accuracy += truth == predicted ? 1.0 / static_cast<double>(rows.size()) : 0;
    }
    return scores;
}

// A metric of summary.json against its values per seed: their mean and sample std.
void expect_over_seeds(const json & metric, const std::vector<double> & per_seed, const std::string & what) {
    double mean = 0, squares = 0;
    for (const double v : per_seed) mean += v / static_cast<double>(per_seed.size());
    for (const double v : per_seed) squares += (v - mean) * (v - mean);
    const double std = per_seed.size() > 1 ? std::sqrt(squares / static_cast<double>(per_seed.size() - 1)) : 0.0;
    EXPECT_NEAR(metric["mean"].get<double>(), mean, 1e-12) << what;
    EXPECT_NEAR(metric["std"].get<double>(), std, 1e-12) << what;
}

// Per configuration (without seed) and seed, the samples (errors left out).
std::map<std::string, std::map<long long, std::vector<json>>> samples_per_seed(const std::vector<json> & samples) {
    std::map<std::string, std::map<long long, std::vector<json>>> out;
    for (const json & sample : samples) {
        if (!sample.contains("error")) {
            json config = sample["config"];
            config.erase("seed");
            out[config.dump()][sample["config"]["seed"].get<long long>()].push_back(sample);
        }
    }
    return out;
}

// Every group's accuracy, macro precision, recall and F1 and balanced accuracy equal the samples'.
void expect_scores_match_samples(const json & summary, const std::vector<json> & samples) {
    using Member = double Scores::*;
    const std::vector<std::pair<std::string, Member>> metrics{
        {"accuracy", &Scores::accuracy},   {"macro_precision", &Scores::macro_precision},
        {"macro_recall", &Scores::macro_recall}, {"macro_f1", &Scores::macro_f1},
        {"balanced_accuracy", &Scores::balanced_accuracy}};
    for (const auto & [config, seeds] : samples_per_seed(samples)) {
        std::vector<Scores> per_seed;
        for (const auto & [seed, rows] : seeds) {
            std::vector<std::pair<int, int>> pairs;
            for (const json & row : rows) {
                pairs.emplace_back(row["truth"].get<int>(), row["predicted"].is_null() ? -1 : row["predicted"].get<int>());
            }
            per_seed.push_back(scores_of(pairs));
        }
        const json & group = group_of(summary, json::parse(config));
        EXPECT_EQ(group["seeds"], seeds.size()) << config;
        for (const auto & [name, member] : metrics) {
            std::vector<double> values;
            for (const Scores & scores : per_seed) values.push_back(scores.*member);
            expect_over_seeds(group["metrics"][name], values, config + " " + name);
        }
    }
}

// Scikit-learn's roc_auc_score(multi_class='ovr', average='macro') over the classes in truth
// (with negatives too), as the area under the ROC curve: the chance a positive outscores a negative.
double roc_auc_of(const std::vector<json> & rows) {
    std::set<int> classes;
    for (const json & row : rows) classes.insert(row["truth"].get<int>());
    double sum = 0;
    int counted = 0;
    for (const int c : classes) {
        double pairs = 0, wins = 0;
        for (const json & positive : rows) {
            for (const json & negative : rows) {
                if (positive["truth"] == c && negative["truth"] != c) {
                    const double p = positive["probabilities"][c], n = negative["probabilities"][c];
                    wins += p > n ? 1.0 : p == n ? 0.5 : 0.0;
                    ++pairs;
                }
            }
        }
        if (pairs > 0) {
            sum += wins / pairs;
            ++counted;
        }
    }
    return sum / counted;
}

// The shipped knowledge base, walked by the tests themselves.
const dermlens::kb::KnowledgeBase & shipped_kb() {
    static const auto kb = dermlens::kb::KnowledgeBase::load({dermlens::kb::KnowledgeBase::shipped_dir()});
    return kb;
}

// The condition of each class of the isic9class folder (all nine present: the label set's order).
std::vector<std::string> isic_conditions() {
    std::vector<std::string> out;
    for (const auto & label : shipped_kb().label_set("isic9class").labels) out.push_back(label.condition);
    return out;
}

// The condition's path from the root, walking its parents.
std::vector<std::string> root_path(const std::string & condition) {
    std::vector<std::string> path{condition};
    while (const auto parent = shipped_kb().parent(path.front())) path.insert(path.begin(), *parent);
    return path;
}

// The samples with truth and prediction as `level_of` names them (as indices of those names), the level in the
// configuration: what summary.json scores per level or group.
std::vector<json> relabelled(const std::vector<json> & samples, const json & tag,
                             const std::function<std::optional<std::string>(std::size_t)> & level_of) {
    std::map<std::string, int> index;
    const auto index_of = [&](const std::string & name) { return index.emplace(name, static_cast<int>(index.size())).first->second; };
    std::vector<json> out;
    for (json sample : samples) {
        const auto truth = level_of(sample["truth"].get<std::size_t>());
        if (!truth) continue;
        const auto predicted = sample["predicted"].is_null() ? std::nullopt : level_of(sample["predicted"].get<std::size_t>());
        sample["truth"] = index_of(*truth);
        sample["predicted"] = predicted ? json(index_of(*predicted)) : json(nullptr);
        sample["config"].update(tag);
        out.push_back(std::move(sample));
    }
    return out;
}

class CliEval : public testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir("cli_eval");
        dermlens::testmodel::Options options;
        options.out_dir = dir_->path() / "gemma3";
        gemma3_ = dermlens::testmodel::make_test_model(options);
    }
    static void TearDownTestSuite() { delete dir_; }

    void SetUp() override {
        if (!fs::exists(kIsic)) {
            GTEST_SKIP() << "shared data folder absent: " << kIsic;
        }
    }

    static std::vector<std::string> eval_argv(const std::string & protocol, const fs::path & out,
                                              std::vector<std::string> options) {
        // One thread: ctest runs one test per core, and ggml's threads spin when they share one.
        std::vector<std::string> argv{DERMLENS_CLI,           "eval",     "--protocol",            protocol,
                                      "--model",              gemma3_.model.string(), "--mmproj", gemma3_.mmproj.string(),
                                      "--threads",            "1",        "--out",                 out.string(),
                                      "--no-cache"};
        if (std::find(options.begin(), options.end(), "--manifest") == options.end()) {
            argv.insert(argv.end(), {"--manifest", kIsic.string(), "--label-set", "isic9class"});
        }
        argv.insert(argv.end(), options.begin(), options.end());
        return argv;
    }

    static ProcessResult eval(const std::string & protocol, const fs::path & out, std::vector<std::string> options) {
        return run_process(eval_argv(protocol, out, std::move(options)));
    }

    // The uninterrupted multiple-choice run the resume and merge tests compare with.
    static const fs::path & reference_mcq() {
        static const fs::path out = [] {
            const fs::path path = dir() / "mcq_reference";
            const auto run = eval("skinr1-mcq", path, {"--seeds", "2", "--limit", "12"});
            EXPECT_EQ(run.exit_code, 0) << run.err;
            return path;
        }();
        return out;
    }

    static const fs::path & dir() { return dir_->path(); }

    static inline TempDir * dir_ = nullptr;
    static inline dermlens::testmodel::Files gemma3_;
};

TEST_F(CliEval, AblationWritesEveryOutputAndItsSummaryMatchesItsSamples) {
    const fs::path out = dir() / "ablation";
    const auto run = eval("paper000-ablation", out, {"--seeds", "2", "--limit", "3", "--shots", "2"});
    ASSERT_EQ(run.exit_code, 0) << run.err;

    for (const char * file : {"run.sqlite", "samples.jsonl", "summary.json", "summary.csv", "report.md"}) {
        EXPECT_TRUE(fs::exists(out / file)) << file;
    }
    for (const auto & strategy : kAblationStrategies) {
        EXPECT_TRUE(fs::exists(out / ("confusion_" + strategy + ".png"))) << strategy;
        EXPECT_TRUE(fs::exists(out / ("reliability_" + strategy + ".png"))) << strategy;
    }
    const std::vector<json> samples = samples_of(out);
    ASSERT_EQ(samples.size(), 3u * kAblationStrategies.size() * 2u);  // images x strategies x seeds
    EXPECT_EQ(keys_of(samples).size(), samples.size());
    for (const json & sample : samples) {
        ASSERT_FALSE(sample.contains("error")) << sample.dump();
        const std::string strategy = sample["config"]["strategy"];
        // The re-ranking strategies show the VLM the probe's top-5 only; the others every class.
        EXPECT_EQ(sample["candidates"].size(), strategy == "topk" || strategy == "combined" ? 5u : 9u) << strategy;
        EXPECT_EQ(sample["probabilities"].size(), 9u);
        EXPECT_EQ(sample.contains("description"), strategy == "describe-then-decide" || strategy == "combined");
    }
    const json summary = summary_of(out);
    EXPECT_EQ(summary["protocol"], "paper000-ablation");
    EXPECT_EQ(summary["samples"], samples.size());
    expect_accuracy_matches_samples(summary, samples);

    const std::string report = read_text_file(out / "report.md");
    EXPECT_THAT(report, HasSubstr("Table 4"));
    EXPECT_THAT(report, HasSubstr("| Dataset | direct answer | in-context | describe-first | top-5 to top-1 | all combined |"));
    EXPECT_THAT(report, HasSubstr("![Confusion matrix: all combined](confusion_combined.png)"));
    EXPECT_EQ(run.out, report);  // the report is what the command prints
    // Not a terminal: plain progress lines (every 10 s and at the end) instead of a redrawn bar.
    EXPECT_THAT(run.err, HasSubstr("eval paper000-ablation: 30/30  failed 0"));
    EXPECT_THAT(run.err, testing::Not(HasSubstr("\r")));
    const std::string csv = read_text_file(out / "summary.csv");
    EXPECT_THAT(csv, testing::StartsWith("group,metric,mean,std,ci95_low,ci95_high,seeds,samples,failed\n"));
    EXPECT_THAT(csv, HasSubstr("\"strategy=combined\",accuracy,"));
}

TEST_F(CliEval, ShotsComparesTheProbeAndTheRerankingPerShotCount) {
    const fs::path out = dir() / "shots";
    const auto run = eval("paper000-shots", out, {"--seeds", "2", "--limit", "2", "--shot-counts", "1,2"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    for (const char * file : {"run.sqlite", "samples.jsonl", "summary.json", "summary.csv", "report.md", "shots_curve.png",
                              "confusion_rerank_2shot.png", "reliability_rerank_2shot.png"}) {
        EXPECT_TRUE(fs::exists(out / file)) << file;
    }
    const std::vector<json> samples = samples_of(out);
    ASSERT_EQ(samples.size(), 2u * (1u + 2u * 2u) * 2u);  // images x (zero-shot + shot counts x {probe, rerank}) x seeds
    // Top-5 accuracy of each probe configuration, recomputed from the stored probabilities.
    std::map<std::string, std::map<long long, std::pair<int, int>>> top5;
    for (const json & sample : samples) {
        ASSERT_FALSE(sample.contains("error")) << sample.dump();
        if (sample["config"]["method"] != "probe") {
            continue;
        }
        const std::vector<double> p = sample["probabilities"];
        const double truth_p = p[sample["truth"].get<std::size_t>()];
        const auto above = std::count_if(p.begin(), p.end(), [&](double v) { return v > truth_p; });
        EXPECT_EQ(sample["predicted"], std::max_element(p.begin(), p.end()) - p.begin());
        auto & [hits, total] = top5[std::to_string(sample["config"]["shots"].get<int>())][sample["config"]["seed"]];
        hits += above < 5 ? 1 : 0;
        ++total;
    }
    const json summary = summary_of(out);
    expect_accuracy_matches_samples(summary, samples);
    for (const auto & [shots, seeds] : top5) {
        double mean = 0;
        for (const auto & [seed, counts] : seeds) mean += static_cast<double>(counts.first) / counts.second / 2.0;
        const json & group = group_of(summary, {{"method", "probe"}, {"shots", std::stoi(shots)}});
        EXPECT_NEAR(group["metrics"]["top_5_accuracy"]["mean"].get<double>(), mean, 1e-12) << shots;
    }
    EXPECT_THAT(read_text_file(out / "report.md"),
                HasSubstr("| Dataset | 0-shot Top-1 | 1-shot Top1 | 1-shot Top5 | 1-shot VLM | 2-shot Top1 | 2-shot Top5 | "
                          "2-shot VLM |"));
}

TEST_F(CliEval, GapSetsTheZeroShotModelAgainstTheLinearProbe) {
    const fs::path out = dir() / "gap";
    const auto run = eval("paper000-gap", out, {"--seeds", "2", "--limit", "3"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    for (const char * file : {"confusion_zero-shot.png", "confusion_linear-probe.png", "reliability_linear-probe.png"}) {
        EXPECT_TRUE(fs::exists(out / file)) << file;
    }
    const std::vector<json> samples = samples_of(out);
    ASSERT_EQ(samples.size(), 3u * 2u * 2u);
    // The calibrated probe's conformal sets: coverage and size recomputed from the samples.
    std::map<long long, std::pair<double, double>> coverage_size;  // per seed, summed
    std::map<long long, double> singletons;
    for (const json & sample : samples) {
        if (sample["config"]["method"] == "linear-probe") {
            const auto & set = sample["set"];
            auto & [covered, size] = coverage_size[sample["config"]["seed"]];
            covered += std::find(set.begin(), set.end(), sample["truth"]) != set.end() ? 1.0 / 3 : 0.0;
            size += static_cast<double>(set.size()) / 3;
            singletons[sample["config"]["seed"]] += set.size() == 1 ? 1.0 / 3 : 0.0;
        }
    }
    const json summary = summary_of(out);
    const json & probe = group_of(summary, {{"method", "linear-probe"}});
    ASSERT_EQ(coverage_size.size(), 2u);
    EXPECT_NEAR(probe["metrics"]["set_coverage"]["mean"].get<double>(),
                (coverage_size[0].first + coverage_size[1].first) / 2, 1e-12);
    EXPECT_NEAR(probe["metrics"]["mean_set_size"]["mean"].get<double>(),
                (coverage_size[0].second + coverage_size[1].second) / 2, 1e-12);
    EXPECT_NEAR(probe["metrics"]["singleton_share"]["mean"].get<double>(), (singletons[0] + singletons[1]) / 2, 1e-12);
    EXPECT_TRUE(probe["metrics"].contains("median_set_size"));
    EXPECT_TRUE(probe["metrics"].contains("worst_class_set_coverage"));
    EXPECT_FALSE(group_of(summary, {{"method", "zero-shot"}})["metrics"].contains("set_coverage"));
    expect_accuracy_matches_samples(summary, samples);
    const std::string report = read_text_file(out / "report.md");
    EXPECT_THAT(report, HasSubstr("The probe's lac sets at its calibrated alpha"));
    EXPECT_THAT(report, HasSubstr("| configuration | coverage | mean size | median size | 1-class sets | empty sets | "
                                  "worst class | 1-class coverage |"));
    EXPECT_THAT(report, HasSubstr("| Dataset | #Class | #Train | #Test | Zero-shot ACC | Zero-shot F1 | Linear probe ACC | "
                                  "Linear probe F1 |"));
    EXPECT_THAT(report, HasSubstr("| isic9class | 9 | "));
}

TEST_F(CliEval, MultipleChoiceWritesEveryOutputAndScoresTheFinestOptionOnThePath) {
    const fs::path & out = reference_mcq();
    for (const char * file : {"run.sqlite", "samples.jsonl", "summary.json", "summary.csv", "report.md",
                              "confusion_malignancy.png", "reliability_malignancy.png"}) {
        EXPECT_TRUE(fs::exists(out / file)) << file;
    }
    const std::vector<json> samples = samples_of(out);
    std::map<std::string, std::size_t> per_set;
    for (const json & sample : samples) {
        ASSERT_FALSE(sample.contains("error")) << sample.dump();
        const std::string set = sample["config"]["set"];
        ++per_set[set];
        const auto & options = sample["options"];
        ASSERT_GE(options.size(), 2u);
        ASSERT_LT(sample["truth"].get<std::size_t>(), options.size());
        if (set == "malignancy") {
            EXPECT_EQ(options, json({"benign", "malignant", "precancerous in situ"}));
        } else {
            EXPECT_LE(options.size(), 4u);
            EXPECT_EQ(sample["option_conditions"].size(), options.size());
            EXPECT_EQ(std::set<json>(options.begin(), options.end()).size(), options.size()) << sample.dump();
        }
        // The model's choice is its most probable option.
        const auto & p = sample["probabilities"];
        const std::size_t predicted = sample["predicted"];
        for (std::size_t i = 0; i < options.size(); ++i) {
            EXPECT_LE(p[i].get<double>(), p[predicted].get<double>());
        }
    }
    // Every image has an in-distribution, a DDx and a lesion-condition question per seed
    // (isic9class's conditions all have DDx neighbours and a known malignancy).
    EXPECT_EQ(per_set["in-distribution"], 12u * 2u);
    EXPECT_EQ(per_set["ddx"], 12u * 2u);
    EXPECT_EQ(per_set["malignancy"], 12u * 2u);
    EXPECT_GT(per_set["hierarchical"], 0u);
    expect_accuracy_matches_samples(summary_of(out), samples);
    EXPECT_THAT(read_text_file(out / "report.md"), HasSubstr("| Dataset | in-distribution ACC | hierarchical ACC | ddx ACC | "
                                                             "lesion condition ACC | lesion condition F1 |"));
}

// The tiny model's replies are garbage: each is recorded, its names graded (unknown names
// unrelated), and scored as wrong rather than failed.
TEST_F(CliEval, SkinFlowTopKGradesEveryNamedDiagnosisAndItsTopKMatchesTheRanks) {
    const fs::path out = dir() / "skinflow_topk";
    const auto run = eval("skinflow-topk", out, {"--seeds", "2", "--limit", "3"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    for (const char * file :
         {"run.sqlite", "samples.jsonl", "summary.json", "summary.csv", "report.md", "topk_curve.png"}) {
        EXPECT_TRUE(fs::exists(out / file)) << file;
    }
    const std::vector<json> samples = samples_of(out);
    ASSERT_EQ(samples.size(), 3u * 2u);  // images x seeds
    const std::set<std::string> correct{"exact", "synonym", "subclass", "acceptable_parent"};
    const std::set<std::string> wrong{"unacceptable_parent", "sibling", "unrelated"};
    for (const json & sample : samples) {
        ASSERT_FALSE(sample.contains("error")) << sample.dump();
        EXPECT_TRUE(sample["answer"].is_string());
        const json & diagnoses = sample["diagnoses"];
        EXPECT_LE(diagnoses.size(), 6u);
        EXPECT_EQ(diagnoses.empty(), sample.contains("parse_problem")) << sample.dump();
        json first_correct = nullptr;
        for (std::size_t i = 0; i < diagnoses.size(); ++i) {
            const std::string grade = diagnoses[i]["grade"];
            EXPECT_TRUE(correct.contains(grade) || wrong.contains(grade)) << grade;
            EXPECT_TRUE(diagnoses[i]["name"].is_string());
            if (diagnoses[i]["condition"].is_null()) {
                EXPECT_EQ(grade, "unrelated") << sample.dump();
            }
            if (first_correct.is_null() && correct.contains(grade)) {
                first_correct = i + 1;
            }
        }
        EXPECT_EQ(sample["first_correct_rank"], first_correct) << sample.dump();
    }
    // Top-k per seed from the samples' ranks: the share whose first correct diagnosis is among the first k.
    const json summary = summary_of(out);
    for (const auto & [config, seeds] : samples_per_seed(samples)) {
        const json & group = group_of(summary, json::parse(config));
        for (std::size_t k = 1; k <= 6; ++k) {
            std::vector<double> per_seed;
            for (const auto & [seed, rows] : seeds) {
                const auto hits = std::count_if(rows.begin(), rows.end(), [k](const json & row) {
                    return !row["first_correct_rank"].is_null() && row["first_correct_rank"].get<std::size_t>() <= k;
                });
                per_seed.push_back(static_cast<double>(hits) / static_cast<double>(rows.size()));
            }
            expect_over_seeds(group["metrics"]["graded_top_" + std::to_string(k) + "_accuracy"], per_seed,
                              "top-" + std::to_string(k));
        }
    }
    expect_accuracy_matches_samples(summary, samples);
    const std::string report = read_text_file(out / "report.md");
    EXPECT_THAT(report, HasSubstr("Table 2: open-vocabulary Top-k accuracy, clinically graded"));
    EXPECT_THAT(report, HasSubstr("| Dataset | Model | TOP1 | TOP2 | TOP3 | TOP4 | TOP5 | TOP6 |"));
    EXPECT_THAT(report, HasSubstr("| isic9class | model.gguf | "));
    EXPECT_THAT(report, HasSubstr("| Dataset | exact | synonym | subclass | acceptable parent | unacceptable parent | "
                                  "sibling | unrelated | no answer |"));
    EXPECT_THAT(report, HasSubstr("![Graded Top-k accuracy against k](topk_curve.png)"));
    EXPECT_THAT(read_text_file(out / "summary.csv"), HasSubstr("\"k=6\",graded_top_6_accuracy,"));
}

TEST_F(CliEval, AKilledRunResumesToTheUninterruptedSummaryWithoutDuplicates) {
    const fs::path & reference = reference_mcq();
    const std::size_t total = samples_of(reference).size();
    const fs::path out = dir() / "mcq_killed";
    const auto child = dermlens::test::start_process(eval_argv("skinr1-mcq", out, {"--seeds", "2", "--limit", "12"}));
    // Kill it once some samples are stored, well before the end.
    std::size_t stored = 0;
    for (int poll = 0; poll < 6000 && stored < 10; ++poll) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        if (fs::exists(out / "run.sqlite")) {
            try {
                stored = dermlens::eval::RunStore::open(out / "run.sqlite").size();
            } catch (const std::exception &) {
                stored = 0;  // created but not yet initialised
            }
        }
    }
    ::kill(child.pid, SIGKILL);
    const ProcessResult killed = dermlens::test::wait_process(child);
    ASSERT_EQ(killed.exit_code, -1) << "the run ended before it was killed: " << killed.err;
    const std::size_t before = dermlens::eval::RunStore::open(out / "run.sqlite").size();
    ASSERT_GE(before, 10u);
    ASSERT_LT(before, total);
    EXPECT_FALSE(fs::exists(out / "summary.json"));

    const auto again = eval("skinr1-mcq", out, {"--seeds", "2", "--limit", "12"});
    EXPECT_EQ(again.exit_code, 2);  // a folder holding a run needs --resume
    EXPECT_THAT(again.err, HasSubstr("--resume"));
    const auto resumed = eval("skinr1-mcq", out, {"--seeds", "2", "--limit", "12", "--resume"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_THAT(resumed.err, HasSubstr(std::to_string(before) + " stored before, " + std::to_string(total - before) +
                                       " evaluated now"));

    const std::vector<json> samples = samples_of(out);
    EXPECT_EQ(samples.size(), total);
    EXPECT_EQ(keys_of(samples), keys_of(samples_of(reference)));
    EXPECT_EQ(summary_of(out)["groups"], summary_of(reference)["groups"]);
    EXPECT_EQ(read_text_file(out / "summary.csv"), read_text_file(reference / "summary.csv"));

    // Resuming a finished run evaluates nothing and changes nothing.
    const auto finished = eval("skinr1-mcq", out, {"--seeds", "2", "--limit", "12", "--resume"});
    ASSERT_EQ(finished.exit_code, 0) << finished.err;
    EXPECT_THAT(finished.err, HasSubstr(std::to_string(total) + " stored before, 0 evaluated now"));
    EXPECT_EQ(samples_of(out).size(), total);
}

TEST_F(CliEval, ShardsMergeToTheUnshardedRun) {
    const fs::path & reference = reference_mcq();
    std::vector<std::string> shards;
    for (const char * shard : {"1/3", "2/3", "3/3"}) {
        const fs::path out = dir() / ("mcq_shard" + std::string(1, shard[0]));
        const auto run = eval("skinr1-mcq", out, {"--seeds", "2", "--limit", "12", "--shard", shard});
        ASSERT_EQ(run.exit_code, 0) << run.err;
        shards.push_back(out.string());
    }
    const fs::path merged = dir() / "mcq_merged";
    std::vector<std::string> argv{DERMLENS_CLI, "eval", "merge", "--out", merged.string()};
    argv.insert(argv.end(), shards.begin(), shards.end());
    const auto run = run_process(argv);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(keys_of(samples_of(merged)), keys_of(samples_of(reference)));
    EXPECT_EQ(summary_of(merged)["groups"], summary_of(reference)["groups"]);
    EXPECT_EQ(read_text_file(merged / "report.md"), read_text_file(reference / "report.md"));

    const auto twice = run_process({DERMLENS_CLI, "eval", "merge", "--out", (dir() / "mcq_merged_twice").string(),
                                    shards[0], shards[0]});
    EXPECT_EQ(twice.exit_code, 0) << twice.err;  // the same samples twice: identical, kept once
    const auto one = run_process({DERMLENS_CLI, "eval", "merge", "--out", (dir() / "mcq_merged_one").string(), shards[0]});
    EXPECT_EQ(one.exit_code, 2);
    EXPECT_THAT(one.err, HasSubstr("two or more runs"));
}

TEST_F(CliEval, AFailingSampleIsRecordedAndTheRunGoesOn) {
    const fs::path data = dir() / "broken";
    fs::create_directories(data);
    const fs::path melanoma = kIsic / "melanoma";
    std::vector<fs::path> images;
    for (const auto & entry : fs::directory_iterator(melanoma)) {
        images.push_back(entry.path());
    }
    std::sort(images.begin(), images.end());
    { std::ofstream(data / "broken.jpg") << "not a JPEG"; }
    std::ofstream manifest(data / "manifest.csv");
    manifest << "image,label,split\n"
             << images[0].string() << ",melanoma,test\n"
             << "broken.jpg,melanoma,test\n"
             << images[1].string() << ",nevus,test\n";
    manifest.close();
    const fs::path out = dir() / "broken_run";
    const auto run = eval("skinr1-mcq", out,
                          {"--manifest", (data / "manifest.csv").string(), "--label-set", "isic9class", "--seeds", "1"});
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_THAT(run.err, HasSubstr("broken.jpg"));
    const std::vector<json> samples = samples_of(out);
    std::size_t failed = 0;
    for (const json & sample : samples) {
        if (sample["image"] == "broken.jpg") {
            ASSERT_TRUE(sample.contains("error")) << sample.dump();
            EXPECT_EQ(sample["error"]["kind"], "invalid_input");
            ++failed;
        } else {
            EXPECT_FALSE(sample.contains("error")) << sample.dump();
        }
    }
    EXPECT_GT(failed, 0u);
    EXPECT_EQ(summary_of(out)["failed"], failed);
}

TEST_F(CliEval, BadOptionsAndInputsAreRefusedWithTheirReason) {
    const auto unknown = eval("paper999", dir() / "bad1", {});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_THAT(unknown.err, HasSubstr("--protocol 'paper999': unknown; choose one of paper000-ablation"));

    const auto shard = eval("skinr1-mcq", dir() / "bad2", {"--shard", "4/3"});
    EXPECT_EQ(shard.exit_code, 2);
    EXPECT_THAT(shard.err, HasSubstr("4/3"));

    const fs::path labels = dir() / "labels.csv";
    std::ofstream(labels) << "image,label\n" << (kIsic / "melanoma").string() << "/x.jpg,lichen planus\n";
    const auto unknown_label = eval("skinr1-mcq", dir() / "bad3", {"--manifest", labels.string(), "--label-set", "isic9class"});
    EXPECT_NE(unknown_label.exit_code, 0);
    EXPECT_THAT(unknown_label.err, HasSubstr("label 'lichen planus' is not in label set 'isic9class'"));

    const auto seeds = eval("skinr1-mcq", dir() / "bad4", {"--seeds", "0"});
    EXPECT_EQ(seeds.exit_code, 2);
    EXPECT_THAT(seeds.err, HasSubstr("--seeds 0"));

    const fs::path & reference = reference_mcq();
    const auto other = eval("skinr1-mcq", reference, {"--seeds", "3", "--limit", "12", "--resume"});
    EXPECT_EQ(other.exit_code, 2);
    EXPECT_THAT(other.err, HasSubstr("seeds"));
}

TEST_F(CliEval, SkinVlZeroShotListsEveryClassAndReportsTable5) {
    const fs::path out = dir() / "skinvl";
    const auto run = eval("skinvl-zeroshot", out, {"--seeds", "2", "--limit", "3", "--max-tokens", "16"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    // No reliability diagram: the tiny model's answers name no class, so no answer has a confidence.
    for (const char * file : {"run.sqlite", "samples.jsonl", "summary.json", "summary.csv", "report.md",
                              "confusion_zero-shot.png"}) {
        EXPECT_TRUE(fs::exists(out / file)) << file;
    }
    const std::vector<json> samples = samples_of(out);
    ASSERT_EQ(samples.size(), 3u * 2u);
    for (const json & sample : samples) {
        ASSERT_FALSE(sample.contains("error")) << sample.dump();
        EXPECT_EQ(sample["config"]["method"], "zero-shot");
        EXPECT_EQ(sample["candidates"].size(), 9u);  // every class listed
        EXPECT_TRUE(sample.contains("answer"));      // SkinVL's answer is generated, then matched to a class
    }
    expect_scores_match_samples(summary_of(out), samples);
    const std::string report = read_text_file(out / "report.md");
    EXPECT_THAT(report, HasSubstr("Table 5"));
    EXPECT_THAT(report, HasSubstr("| Methods | isic9class ACC | isic9class precision | isic9class F1 | isic9class BACC |"));
    EXPECT_THAT(report, HasSubstr("| " + gemma3_.model.filename().string() + " | "));
}

TEST_F(CliEval, ProbeSftTrainsOnEveryTrainingImageAndReportsTable4) {
    const fs::path out = dir() / "probe_sft";
    const auto run = eval("probe-sft", out, {"--seeds", "2", "--limit", "6"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    for (const char * file : {"run.sqlite", "samples.jsonl", "summary.json", "summary.csv", "report.md",
                              "confusion_linear-probe.png", "reliability_linear-probe.png"}) {
        EXPECT_TRUE(fs::exists(out / file)) << file;
    }
    const std::vector<json> samples = samples_of(out);
    ASSERT_EQ(samples.size(), 6u * 2u);
    std::set<int> truths;
    for (const json & sample : samples) {
        ASSERT_FALSE(sample.contains("error")) << sample.dump();
        EXPECT_EQ(sample["c_selection"], "cross-validation");  // 5 folds over every training image (paper 001)
        truths.insert(sample["truth"].get<int>());
    }
    ASSERT_GE(truths.size(), 2u);  // so that ROC-AUC is defined
    const json summary = summary_of(out);
    expect_scores_match_samples(summary, samples);
    std::vector<double> auc;
    const auto per_seed = samples_per_seed(samples);
    for (const auto & [seed, rows] : per_seed.begin()->second) auc.push_back(roc_auc_of(rows));
    expect_over_seeds(group_of(summary, {{"method", "linear-probe"}})["metrics"]["roc_auc"], auc, "roc_auc");
    const std::string report = read_text_file(out / "report.md");
    EXPECT_THAT(report, HasSubstr("Table 4"));
    EXPECT_THAT(report,
                HasSubstr("| Methods | isic9class ACC | isic9class Recall | isic9class F1 | isic9class ROC-AUC |"));
    EXPECT_THAT(report, HasSubstr("| " + gemma3_.mmproj.filename().string() + " | "));
}

TEST_F(CliEval, GranularityScoresThePredictionAtEveryDepthOfTheTaxonomy) {
    const fs::path out = dir() / "granularity";
    const auto run = eval("granularity", out, {"--seeds", "2", "--limit", "6"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    for (const char * file : {"run.sqlite", "samples.jsonl", "summary.json", "summary.csv", "report.md",
                              "confusion_direct.png", "reliability_direct.png", "confusion_malignancy.png"}) {
        EXPECT_TRUE(fs::exists(out / file)) << file;
    }
    const std::vector<json> samples = samples_of(out);
    ASSERT_EQ(samples.size(), 6u * 2u);
    for (const json & sample : samples) {
        ASSERT_FALSE(sample.contains("error")) << sample.dump();
        EXPECT_EQ(sample["config"]["strategy"], "direct");
    }
    const json summary = summary_of(out);
    expect_scores_match_samples(summary, samples);  // the dataset's classes

    // Each level recomputed by walking the knowledge base: the ancestor at depth d, deepest level first.
    const std::vector<std::string> conditions = isic_conditions();
    std::size_t deepest = 0;
    for (const auto & condition : conditions) deepest = std::max(deepest, root_path(condition).size() - 1);
    ASSERT_GE(deepest, 2u);
    std::string header = "| Dataset |";
    for (std::size_t depth = deepest; depth >= 1; --depth) {
        const auto ancestor = [&](std::size_t cls) -> std::optional<std::string> {
            const auto path = root_path(conditions.at(cls));
            return path.size() - 1 > depth ? path[depth] : path.back();
        };
        const std::string level = "depth " + std::to_string(depth);
        expect_scores_match_samples(summary, relabelled(samples, {{"level", level}}, ancestor));
        std::set<std::string> classes;
        for (std::size_t cls = 0; cls < conditions.size(); ++cls) classes.insert(*ancestor(cls));
        header += " " + level + ": " + std::to_string(classes.size()) + " classes |";
    }
    const auto malignancy = [&](std::size_t cls) -> std::optional<std::string> {
        const auto value = shipped_kb().malignancy(conditions.at(cls));
        return value ? std::optional<std::string>(dermlens::kb::malignancy_name(*value)) : std::nullopt;
    };
    expect_scores_match_samples(summary, relabelled(samples, {{"level", "malignancy"}}, malignancy));
    header += " malignancy: 3 classes |";  // benign, malignant, precancerous
    EXPECT_THAT(read_text_file(out / "report.md"), HasSubstr(header));
}

TEST_F(CliEval, FairnessComparesTheGroupsOfEveryDemographicColumn) {
    // Two images of each of four classes (two of them malignant), each with a skin type, sex and age.
    struct Row {
        const char * folder;
        const char * fitzpatrick;
        const char * sex;
        const char * age;
        json groups;  // what the record should say
    };
    const std::vector<Row> rows{
        {"melanoma", "1", "male", "25", {{"skin_type", "1"}, {"sex", "male"}, {"age", "0-29"}}},
        {"melanoma", "5", "female", "80", {{"skin_type", "5"}, {"sex", "female"}, {"age", "75+"}}},
        {"nevus", "1", "female", "50", {{"skin_type", "1"}, {"sex", "female"}, {"age", "45-59"}}},
        {"nevus", "5", "male", "", {{"skin_type", "5"}, {"sex", "male"}, {"age", nullptr}}},
        {"basal_cell_carcinoma", "2", "unknown", "31", {{"skin_type", "2"}, {"sex", nullptr}, {"age", "30-44"}}},
        {"basal_cell_carcinoma", "", "female", "62", {{"skin_type", nullptr}, {"sex", "female"}, {"age", "60-74"}}},
        {"seborrheic_keratosis", "2", "male", "47", {{"skin_type", "2"}, {"sex", "male"}, {"age", "45-59"}}},
        {"seborrheic_keratosis", "5", "female", "75", {{"skin_type", "5"}, {"sex", "female"}, {"age", "75+"}}},
    };
    const fs::path manifest = dir() / "fairness.csv";
    std::map<std::string, json> expected_groups;
    {
        std::ofstream csv(manifest);
        csv << "image,label,split,fitzpatrick,sex,age\n";
        std::map<std::string, int> taken;
        for (const Row & row : rows) {
            std::vector<fs::path> images;
            for (const auto & entry : fs::directory_iterator(kIsic / row.folder)) images.push_back(entry.path());
            std::sort(images.begin(), images.end());
            const fs::path image = images.at(static_cast<std::size_t>(taken[row.folder]++));
            csv << image.string() << "," << row.folder << ",test," << row.fitzpatrick << "," << row.sex << "," << row.age
                << "\n";
            expected_groups[image.string()] = row.groups;
        }
    }
    const fs::path out = dir() / "fairness";
    const auto run = eval("fairness", out, {"--manifest", manifest.string(), "--label-set", "isic9class", "--seeds", "2",
                                            "--strategy", "in-context"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    for (const char * file : {"run.sqlite", "samples.jsonl", "summary.json", "summary.csv", "report.md",
                              "fairness_skin_type.png", "fairness_sex.png", "fairness_age.png"}) {
        EXPECT_TRUE(fs::exists(out / file)) << file;
    }
    const std::vector<json> samples = samples_of(out);
    ASSERT_EQ(samples.size(), rows.size() * 2u);
    for (const json & sample : samples) {
        ASSERT_FALSE(sample.contains("error")) << sample.dump();
        EXPECT_EQ(sample["config"]["strategy"], "in-context");
        EXPECT_EQ(sample["groups"], expected_groups.at(sample["image"].get<std::string>())) << sample["image"];
    }
    const json summary = summary_of(out);
    expect_scores_match_samples(summary, samples);  // everyone

    // Per group: the scores and the share of malignant predictions; per attribute: the largest
    // differences between groups, per seed, in accuracy and in that share.
    std::vector<std::string> conditions;  // of the manifest's classes: the label set's labels it has, in its order
    for (const auto & label : shipped_kb().label_set("isic9class").labels) {
        if (std::any_of(rows.begin(), rows.end(), [&](const Row & row) { return label.label == row.folder; })) {
            conditions.push_back(label.condition);
        }
    }
    const auto malignant = [&](const json & sample) {
        return !sample["predicted"].is_null() &&
               shipped_kb().malignancy(conditions.at(sample["predicted"].get<std::size_t>())) ==
                   dermlens::kb::Malignancy::Malignant;
    };
    const auto share = [](const std::vector<json> & rows_of_seed, const std::function<bool(const json &)> & holds) {
        return static_cast<double>(std::count_if(rows_of_seed.begin(), rows_of_seed.end(), holds)) /
               static_cast<double>(rows_of_seed.size());
    };
    const auto right = [](const json & sample) { return sample["predicted"] == sample["truth"]; };
    for (const std::string attribute : {"skin_type", "sex", "age"}) {
        std::map<std::string, std::vector<json>> by_group;
        for (const json & sample : samples) {
            if (!sample["groups"][attribute].is_null()) {
                by_group[sample["groups"][attribute].get<std::string>()].push_back(sample);
            }
        }
        std::map<long long, std::vector<std::pair<double, double>>> per_seed;  // (accuracy, malignant share) per group
        for (const auto & [group, members] : by_group) {
            const json tag = {{"attribute", attribute}, {"group", group}};
            const auto same_class = [](std::size_t cls) -> std::optional<std::string> { return std::to_string(cls); };
            expect_scores_match_samples(summary, relabelled(members, tag, same_class));
            std::vector<double> malignant_share;
            const auto members_per_seed = samples_per_seed(members);
            for (const auto & [seed, of_seed] : members_per_seed.begin()->second) {
                malignant_share.push_back(share(of_seed, malignant));
                per_seed[seed].emplace_back(share(of_seed, right), malignant_share.back());
            }
            json config = {{"strategy", "in-context"}};
            config.update(tag);
            expect_over_seeds(group_of(summary, config)["metrics"]["malignant_prediction_rate"], malignant_share,
                              tag.dump());
        }
        std::vector<double> gaps, parity;
        for (const auto & [seed, groups] : per_seed) {
            double accuracy_low = 1, accuracy_high = 0, rate_low = 1, rate_high = 0;
            for (const auto & [accuracy, rate] : groups) {
                accuracy_low = std::min(accuracy_low, accuracy), accuracy_high = std::max(accuracy_high, accuracy);
                rate_low = std::min(rate_low, rate), rate_high = std::max(rate_high, rate);
            }
            gaps.push_back(accuracy_high - accuracy_low);
            parity.push_back(rate_high - rate_low);
        }
        const json & across = group_of(summary, {{"strategy", "in-context"}, {"attribute", attribute}});
        expect_over_seeds(across["metrics"]["worst_group_gap"], gaps, attribute);
        expect_over_seeds(across["metrics"]["demographic_parity_difference"], parity, attribute);
    }
    const std::string report = read_text_file(out / "report.md");
    EXPECT_THAT(report, HasSubstr("| Attribute | Group | Images | ACC | F1 | BACC | Malignant predicted |"));
    EXPECT_THAT(report, HasSubstr("| Fitzpatrick skin type | 5 | 3 | "));
    EXPECT_THAT(report, HasSubstr("| Attribute | Column | Groups | Worst-group gap (ACC) | Demographic parity difference |"));
    EXPECT_THAT(report, HasSubstr("| Fitzpatrick skin type | fitzpatrick | 3 | "));
    EXPECT_THAT(report, HasSubstr("| age band | age | 5 | "));
    EXPECT_THAT(report, HasSubstr("![Accuracy per sex](fairness_sex.png)"));
}

// A probe strategy's conformal sets per skin type: the marginal set and the group-conditional
// one (q_hat from the calib images of the image's own type), recomputed here from the calib
// images' probabilities as the docs define them.
TEST_F(CliEval, FairnessReportsConformalSetsPerGroup) {
    const fs::path manifest = dir() / "fairness_sets.csv";
    std::vector<fs::path> images;
    for (const auto & folder : fs::directory_iterator(kIsic)) {
        for (const auto & entry : fs::directory_iterator(folder.path())) images.push_back(entry.path());
    }
    std::sort(images.begin(), images.end());
    {
        std::ofstream csv(manifest);
        csv << "image,label,split,fitzpatrick\n";
        for (std::size_t i = 0; i < images.size(); ++i) {
            const char * split = i % 4 == 0 ? "calib" : i % 4 == 1 ? "test" : "train";
            csv << images[i].string() << "," << images[i].parent_path().filename().string() << "," << split << ","
                << (i % 8 < 4 ? "1" : "5") << "\n";
        }
    }
    const fs::path out = dir() / "fairness_sets";
    const auto run = eval("fairness", out, {"--manifest", manifest.string(), "--label-set", "isic9class", "--seeds", "1",
                                            "--strategy", "topk", "--shots", "2", "--limit", "8"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const std::vector<json> samples = samples_of(out);
    ASSERT_EQ(samples.size(), 8u);
    std::map<std::string, std::pair<double, double>> covered;  // group -> (marginal, group-conditional) covered
    for (const json & sample : samples) {
        ASSERT_FALSE(sample.contains("error")) << sample.dump();
        ASSERT_TRUE(sample["set"].is_array()) << sample.dump();
        ASSERT_TRUE(sample["group_sets"]["skin_type"].is_array()) << sample.dump();
        const auto in = [&](const json & set) { return std::find(set.begin(), set.end(), sample["truth"]) != set.end(); };
        auto & [marginal, conditional] = covered[sample["groups"]["skin_type"].get<std::string>()];
        marginal += in(sample["set"]) ? 1.0 : 0.0;
        conditional += in(sample["group_sets"]["skin_type"]) ? 1.0 : 0.0;
    }
    const json summary = summary_of(out);
    for (const auto & [group, counts] : covered) {
        const json & metrics =
            group_of(summary, {{"strategy", "topk"}, {"attribute", "skin_type"}, {"group", group}})["metrics"];
        const double images_of_group = static_cast<double>(std::count_if(samples.begin(), samples.end(), [&](const json & s) {
            return s["groups"]["skin_type"] == group;
        }));
        EXPECT_NEAR(metrics["set_coverage"]["mean"].get<double>(), counts.first / images_of_group, 1e-12) << group;
        EXPECT_NEAR(metrics["group_set_coverage"]["mean"].get<double>(), counts.second / images_of_group, 1e-12) << group;
        EXPECT_TRUE(metrics.contains("group_mean_set_size")) << group;
    }
    const std::string report = read_text_file(out / "report.md");
    EXPECT_THAT(report, HasSubstr("### Conformal sets per group"));
    EXPECT_THAT(report, HasSubstr("| Attribute | Group | Images | Coverage | Mean size | Group-conditional coverage | "
                                  "Group-conditional mean size |"));
}

TEST_F(CliEval, FairnessRefusesAManifestWithoutDemographicColumns) {
    const fs::path out = dir() / "fairness_none";
    const auto run = eval("fairness", out, {"--seeds", "1"});  // a folder of class folders: no metadata
    EXPECT_EQ(run.exit_code, 3) << run.err;
    EXPECT_THAT(run.err, HasSubstr("manifest '" + kIsic.string() + "' has no demographic column to group by: looked for "
                                   "skin_type, fitzpatrick, fitzpatrick_scale, sex, gender, age, age_approx"));
    EXPECT_FALSE(fs::exists(out / "run.sqlite"));  // refused before the run folder is made

    const auto strategy = eval("granularity", dir() / "granularity_bad", {"--strategy", "guess"});
    EXPECT_EQ(strategy.exit_code, 2);
    EXPECT_THAT(strategy.err, HasSubstr("guess"));
}

}  // namespace
