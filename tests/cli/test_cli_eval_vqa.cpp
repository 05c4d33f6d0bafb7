// `dermlens eval --protocol skinvl-vqa` end to end through the built CLI on a generated tiny
// Gemma 3 model and a small JSON Lines file of open questions about shared images of the three
// modalities: every question is answered and recorded, the per-modality metrics of summary.json
// equal a recomputation from the recorded answers (metrics/text_metrics.h), report.md holds
// table 3, and a question file with a bad line is refused naming the line.
#include "metrics/text_metrics.h"
#include "model/testmodel.h"
#include "support/json_lines.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

namespace {

namespace fs = std::filesystem;
using dermlens::test::read_json_lines;
using dermlens::test::read_text_file;
using dermlens::test::run_process;
using nlohmann::json;
using testing::HasSubstr;

const fs::path kImages = fs::path(DERMLENS_SHARED_DIR) / "data" / "images";

// Two questions about each of three images, one image per modality, under images/ beside the file.
void write_questions(const fs::path & file) {
    const std::vector<std::tuple<std::string, std::string, std::string, std::string>> rows{
        {"isic9class/melanoma/ISIC_0000002.jpg", "dermoscopic", "What colours are in the lesion?",
         "Several shades of brown with a blue-white veil."},
        {"isic9class/melanoma/ISIC_0000002.jpg", "dermoscopic", "Is the pattern symmetric?",
         "No, the pigment network is asymmetric."},
        {"clinical/pad-ufes-20/NEV/PAT_29_40_561.png", "clinical", "Describe the lesion.",
         "A small evenly pigmented brown macule."},
        {"clinical/pad-ufes-20/NEV/PAT_29_40_561.png", "clinical", "Is the border regular?", "Yes, it is regular."},
        {"pathology/breakhis/SOB_B_F-14-25197-100-001.png", "pathology", "What does the tissue show?",
         "Glandular structures within a fibrous stroma."},
        {"pathology/breakhis/SOB_B_F-14-25197-100-001.png", "pathology", "Are there atypical cells?",
         "No marked atypia is seen."},
    };
    std::ofstream out(file);
    for (const auto & [image, modality, question, answer] : rows) {
        out << json{{"image", "images/" + image}, {"question", question}, {"answer", answer}, {"modality", modality}}.dump() << "\n";
    }
}

std::vector<json> samples_of(const fs::path & out) { return read_json_lines(out / "samples.jsonl"); }

class CliEvalVqa : public testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new dermlens::test::TempDir("cli_eval_vqa");
        dermlens::testmodel::Options options;
        options.out_dir = dir_->path() / "gemma3";
        model_ = dermlens::testmodel::make_test_model(options);
    }
    static void TearDownTestSuite() { delete dir_; }

    void SetUp() override {
        if (!fs::exists(kImages / "pathology")) {
            GTEST_SKIP() << "shared data folder absent: " << kImages;
        }
    }

    static dermlens::test::ProcessResult eval(const fs::path & questions, const fs::path & out,
                                              std::vector<std::string> extra) {
        std::vector<std::string> argv{DERMLENS_CLI, "eval",      "--protocol", "skinvl-vqa",   "--manifest",
                                      questions.string(),        "--model",    model_.model.string(),
                                      "--mmproj",   model_.mmproj.string(),    "--threads",  "1",
                                      "--out",      out.string(), "--no-cache", "--max-tokens", "12"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run_process(argv);
    }

    static inline dermlens::test::TempDir * dir_ = nullptr;
    static inline dermlens::testmodel::Files model_;
};

// The summary's metrics of every group against a recomputation from the run's samples.
void expect_summary_matches_samples(const fs::path & out, std::size_t seeds, dermlens::metrics::RougeVariant rouge) {
    std::map<std::string, std::map<long long, std::pair<std::vector<std::string>, std::vector<std::string>>>> answers;
    for (const json & sample : samples_of(out)) {
        ASSERT_FALSE(sample.contains("error")) << sample.dump();
        for (const std::string & group : {sample["modality"].get<std::string>(), std::string("all")}) {
            auto & [hyps, refs] = answers[group][sample["config"]["seed"].get<long long>()];
            hyps.push_back(sample["answer"]);
            refs.push_back(sample["reference"]);
        }
    }
    const json summary = json::parse(read_text_file(out / "summary.json"));
    const dermlens::metrics::WordNet wordnet;
    std::vector<std::string> groups;
    for (const json & group : summary["groups"]) {
        const std::string modality = group["config"]["modality"];
        ASSERT_TRUE(answers.count(modality)) << modality;
        groups.push_back(modality);
        std::map<std::string, double> expected;
        for (const auto & [seed, texts] : answers[modality]) {
            const auto scores = dermlens::metrics::score_answers(texts.first, texts.second, &wordnet, rouge);
            expected["bleu4"] += scores.bleu4 / static_cast<double>(seeds);
            expected["meteor"] += scores.meteor / static_cast<double>(seeds);
            expected["rouge_l"] += scores.rouge_l / static_cast<double>(seeds);
            expected["recall"] += scores.recall / static_cast<double>(seeds);
        }
        for (const auto & [metric, value] : expected) {
            EXPECT_NEAR(group["metrics"][metric]["mean"].get<double>(), value, 1e-12) << modality << " " << metric;
        }
    }
    EXPECT_EQ(groups, (std::vector<std::string>{"clinical", "dermoscopic", "pathology", "all"}));
}

TEST_F(CliEvalVqa, AnswersEveryQuestionAndScoresPerModality) {
    // Image paths are relative to the question file's folder: the shared images are linked beside it.
    fs::create_directory_symlink(kImages, dir_->path() / "images");
    write_questions(dir_->path() / "questions.jsonl");
    const fs::path sampled = dir_->path() / "sampled";
    const auto run = eval(dir_->path() / "questions.jsonl", sampled, {"--seeds", "2", "--temperature", "0.7"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    ASSERT_EQ(samples_of(sampled).size(), 12U);  // 6 questions x 2 seeds
    expect_summary_matches_samples(sampled, 2, dermlens::metrics::RougeVariant::Sentence);
    EXPECT_THAT(read_text_file(sampled / "report.md"), HasSubstr("Table 3: VQA"));

    // A random model's answers share nothing with the references: so that the scores are not all
    // zero, a greedy run is asked again with its own answers as the references of two modalities.
    const fs::path greedy = dir_->path() / "greedy";
    ASSERT_EQ(eval(dir_->path() / "questions.jsonl", greedy, {"--seeds", "1"}).exit_code, 0);
    {
        std::ofstream own(dir_->path() / "own_answers.jsonl");
        for (json sample : samples_of(greedy)) {
            const bool own_answer = sample["modality"] != "pathology";
            own << json{{"image", "images/" + sample["image"].get<std::string>().substr(7)},
                        {"question", sample["question"]},
                        {"answer", own_answer ? sample["answer"] : sample["reference"]},
                        {"modality", sample["modality"]}}
                       .dump()
                << "\n";
        }
    }
    const fs::path again = dir_->path() / "again";
    ASSERT_EQ(eval(dir_->path() / "own_answers.jsonl", again, {"--seeds", "1", "--rouge", "summary"}).exit_code, 0);
    expect_summary_matches_samples(again, 1, dermlens::metrics::RougeVariant::Summary);
    const json summary = json::parse(read_text_file(again / "summary.json"));
    EXPECT_DOUBLE_EQ(summary["groups"][0]["metrics"]["recall"]["mean"].get<double>(), 1.0);  // clinical
    EXPECT_GT(summary["groups"][1]["metrics"]["bleu4"]["mean"].get<double>(), 0.99);       // dermoscopic
    EXPECT_GT(summary["groups"][3]["metrics"]["meteor"]["mean"].get<double>(), 0.3);        // all
}

TEST_F(CliEvalVqa, RefusesABadQuestionLine) {
    const fs::path file = dir_->path() / "bad.jsonl";
    std::ofstream(file) << json{{"image", (kImages / "isic9class/melanoma/ISIC_0000002.jpg").string()},
                                {"question", "Colour?"},
                                {"answer", "Brown."}}
                                   .dump()
                        << "\n"
                        << R"({"image": "x.jpg", "question": "Shape?"})" << "\n";
    const auto run = eval(file, dir_->path() / "bad_run", {});
    EXPECT_NE(run.exit_code, 0);
    EXPECT_THAT(run.err, HasSubstr("line 2"));
    EXPECT_THAT(run.err, HasSubstr("'answer'"));
}

}  // namespace
