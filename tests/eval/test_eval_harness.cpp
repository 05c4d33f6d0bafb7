// The evaluation harness without a model: the dataset a run evaluates (labels through the
// label set, splits grouped by patient), the runner over the run store (failures stored, done
// items skipped, shards, a model error stopping the run with its samples kept) and the
// configuration summaries, checked against scikit-learn (tests/metrics/metrics_reference.py).
#include "dermlens/error.h"
#include "eval/eval_runner.h"
#include "eval/eval_summary.h"
#include "eval/protocol_support.h"
#include "model/testmodel.h"
#include "support/expect_error.h"
#include "support/python_reference.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <set>

namespace {

namespace fs = std::filesystem;
using dermlens::Error;
using dermlens::ErrorKind;
using dermlens::test::expect_error;
using dermlens::test::TempDir;
using namespace dermlens::eval;
using dermlens::metrics::MeanStd;
using dermlens::metrics::mean_std;
using json = nlohmann::ordered_json;

const std::vector<std::string> kLabels{"melanoma", "nevus", "basal_cell_carcinoma"};

// 30 images, 10 per label, two images per patient; optional extra CSV text per row.
fs::path write_manifest(const fs::path & dir, const std::string & split_column = "") {
    std::ofstream csv(dir / "manifest.csv");
    csv << "image,label,patient_id" << (split_column.empty() ? "" : ",split") << ",fitzpatrick\n";
    for (int i = 0; i < 30; ++i) {
        csv << "img" << i << ".jpg," << kLabels[static_cast<std::size_t>(i) % 3] << ",p" << i / 2;
        if (!split_column.empty()) {
            csv << "," << (i < 20 ? "train" : split_column);
        }
        csv << "," << 1 + i % 6 << "\n";
    }
    return dir / "manifest.csv";
}

EvalParams params_for(const fs::path & manifest) {
    EvalParams params;
    params.protocol = "test";
    params.manifest = manifest;
    params.label_set = "isic9class";
    params.vlm.model_path = "unused.gguf";  // these tests never load a model
    params.vlm.mmproj_path = "unused-mmproj.gguf";
    params.seeds = 2;
    return params;
}

// A protocol whose "prediction" is a function of the image and seed; some items fail.
class FakeProtocol final : public Protocol {
public:
    std::set<std::string> failing_images;
    std::string model_error_image;

    std::string name() const override { return "fake"; }
    std::string description() const override { return "fake"; }
    std::vector<WorkItem> plan(const EvalSession & session) const override {
        return plan_per_image(session, with_seeds({{{"strategy", "a"}}, {{"strategy", "b"}}}, session.params()));
    }
    json run(const WorkItem & item, EvalSession & session) const override {
        const EvalImage & image = session.dataset().images[item.image];
        if (image.image == model_error_image) {
            throw Error(ErrorKind::InvalidModel, "the model broke");
        }
        if (failing_images.count(image.image) > 0) {
            throw Error(ErrorKind::InvalidInput, "cannot read " + image.image);
        }
        const std::size_t predicted = (image.cls + item.config["seed"].get<std::size_t>()) % 3;
        return {{"image", image.image}, {"config", item.config}, {"truth", image.cls}, {"predicted", predicted}};
    }
    ProtocolReport summarise(const EvalSession &, const std::vector<StoredSample> &) const override { return {}; }
};

TEST(EvalDataset, MapsLabelsThroughTheLabelSetAndKeepsPatientsInOneSplit) {
    TempDir dir("eval_dataset");
    const EvalSession session(params_for(write_manifest(dir.path())));
    const EvalDataset & dataset = session.dataset();
    EXPECT_TRUE(dataset.split_generated);
    // The label set's order, restricted to the classes present.
    EXPECT_EQ(dataset.classes, (std::vector<std::string>{"basal_cell_carcinoma", "melanoma", "nevus"}));
    std::map<std::string, std::set<std::string>> splits_of_patient;
    for (const EvalImage & image : dataset.images) {
        EXPECT_EQ(dataset.classes[image.cls], image.label);
        splits_of_patient[image.patient_id].insert(image.split);
        EXPECT_EQ(image.metadata.at("fitzpatrick").size(), 1u);
    }
    for (const auto & [patient, splits] : splits_of_patient) {
        EXPECT_EQ(splits.size(), 1u) << patient;
    }
    EXPECT_FALSE(dataset.rows_of_split("test").empty());
    EXPECT_FALSE(dataset.rows_of_split("train").empty());
    EXPECT_EQ(session.test_rows(), dataset.rows_of_split("test"));
}

TEST(EvalDataset, UsesTheManifestsSplitAndRefusesUnknownLabelsAndSplits) {
    TempDir dir("eval_dataset_split");
    EvalParams params = params_for(write_manifest(dir.path(), "test"));
    params.limit = 4;
    const EvalSession session(params);
    EXPECT_FALSE(session.dataset().split_generated);
    EXPECT_EQ(session.dataset().rows_of_split("test").size(), 10u);
    EXPECT_EQ(session.test_rows().size(), 4u);  // --limit

    std::ofstream(dir.path() / "unknown.csv") << "image,label\na.jpg,melanoma\nb.jpg,lichen planus\n";
    expect_error([&] { EvalSession(params_for(dir.path() / "unknown.csv")); }, ErrorKind::InvalidInput,
                 {"line 3", "label 'lichen planus' is not in label set 'isic9class'"});
    std::ofstream(dir.path() / "split.csv") << "image,label,split\na.jpg,melanoma,holdout\n";
    expect_error([&] { EvalSession(params_for(dir.path() / "split.csv")); }, ErrorKind::InvalidArgument,
                 {"split 'holdout' is not train, val, calib or test"});
}

TEST(EvalRunner, StoresFailuresSkipsWhatIsDoneAndShardsByImage) {
    TempDir dir("eval_runner");
    EvalSession session(params_for(write_manifest(dir.path(), "test")));
    FakeProtocol protocol;
    const std::string broken = session.dataset().images[session.test_rows()[1]].image;
    protocol.failing_images = {broken};
    const std::vector<WorkItem> plan = protocol.plan(session);
    ASSERT_EQ(plan.size(), 10u * 2u * 2u);

    const auto noop = [](const RunCounts &, const std::string &) {};
    RunStore first = RunStore::create(dir.path() / "a.sqlite", json{{"run", 1}});
    const RunCounts shard1 = run_plan(protocol, session, first, parse_shard("1/2"), noop);
    EXPECT_EQ(shard1.in_shard, 5u * 4u);  // every configuration of every other image
    EXPECT_EQ(shard1.ran, shard1.in_shard);
    EXPECT_EQ(shard1.failed, 0u);  // the broken image is the second: shard 2's
    const RunCounts rest = run_plan(protocol, session, first, parse_shard("2/2"), noop);
    EXPECT_EQ(rest.failed, 4u);  // its two strategies x two seeds
    const RunCounts again = run_plan(protocol, session, first, {}, noop);
    EXPECT_EQ(again.already_done, plan.size());
    EXPECT_EQ(again.ran, 0u);

    const std::vector<StoredSample> samples = first.samples();
    ASSERT_EQ(samples.size(), plan.size());
    for (std::size_t i = 0; i < samples.size(); ++i) {
        EXPECT_EQ(samples[i].key, plan[i].key);  // stored in plan order
        const bool is_broken = samples[i].record["image"] == broken;
        EXPECT_EQ(samples[i].error.has_value(), is_broken) << samples[i].key;
        if (is_broken) {
            EXPECT_EQ((*samples[i].error)["kind"], "invalid_input");
            EXPECT_EQ(samples[i].record["config"], plan[i].config);
        }
    }
}

TEST(EvalRunner, AModelErrorStopsTheRunWithEverythingBeforeItStored) {
    TempDir dir("eval_runner_stop");
    EvalSession session(params_for(write_manifest(dir.path(), "test")));
    FakeProtocol protocol;
    protocol.model_error_image = session.dataset().images[session.test_rows()[3]].image;
    RunStore store = RunStore::create(dir.path() / "run.sqlite", json{{"run", 1}});
    expect_error([&] { run_plan(protocol, session, store, {}, [](const RunCounts &, const std::string &) {}); },
                 ErrorKind::InvalidModel, {"the model broke"});
    EXPECT_EQ(store.size(), 3u * 4u);  // the first three images' items
}

// Probes of several shots and seeds train on the same images: each is encoded once, also
// without the embedding cache.
TEST(EvalSession, EncodesEachTrainingImageOnceForEveryProbe) {
    const fs::path isic = fs::path(DERMLENS_SHARED_DIR) / "data" / "images" / "isic9class";
    if (!fs::exists(isic)) {
        GTEST_SKIP() << "shared data folder absent: " << isic;
    }
    TempDir dir("eval_session_encodes");
    dermlens::testmodel::Options model_options;
    model_options.out_dir = dir.path() / "gemma3";
    const dermlens::testmodel::Files model = dermlens::testmodel::make_test_model(model_options);
    std::ofstream csv(dir.path() / "manifest.csv");
    csv << "image,label,split\n";
    std::size_t training = 0;
    for (const std::string label : {"melanoma", "nevus"}) {
        std::vector<fs::path> images;
        for (const auto & entry : fs::directory_iterator(isic / label)) {
            images.push_back(entry.path());
        }
        std::sort(images.begin(), images.end());
        for (std::size_t i = 0; i < 5; ++i) {
            csv << images[i].string() << "," << label << "," << (i < 4 ? "train" : "test") << "\n";
            training += i < 4 ? 1 : 0;
        }
    }
    csv.close();
    EvalParams params = params_for(dir.path() / "manifest.csv");
    params.vlm.model_path = model.model;
    params.vlm.mmproj_path = model.mmproj;
    params.vlm.threads = 1;
    EvalSession session(params);
    for (const std::size_t shots : {2u, 3u, 4u}) {  // two or more per class: C is cross-validated
        for (const std::uint64_t seed : {0u, 1u}) {
            EXPECT_EQ(session.probe(shots, seed).classes.size(), 2u);
        }
    }
    EXPECT_EQ(session.vlm().encoder_runs(), training);
    const std::size_t test_image = session.test_rows().front();
    EXPECT_EQ(session.probe_probabilities(session.probe(2, 0), test_image).size(), 2u);
    EXPECT_GT(session.encoding(test_image).n_tokens, 0);
    EXPECT_EQ(session.vlm().encoder_runs(), training + 1);  // the test image once, for its feature and its tokens
}

// Summaries against scikit-learn: random predictions with unanswered samples, per seed.
TEST(EvalSummary, GroupMetricsEqualScikitLearnPerSeedAndTheirMeanAndStd) {
    std::mt19937_64 rng(7);
    const std::size_t classes = 4;
    std::vector<StoredSample> samples;
    json cases = json::array();  // per (strategy, seed): the reference's input
    for (const std::string strategy : {"a", "b"}) {
        for (int seed = 0; seed < 3; ++seed) {
            json reference = {{"classes", classes + 1}, {"truth", json::array()}, {"predicted", json::array()},
                              {"probabilities", json::array()}, {"confidence", json::array()},
                              {"correct", json::array()}, {"bins", 15}};
            for (int i = 0; i < 40; ++i) {
                const int truth = static_cast<int>(rng() % classes);
                const bool unanswered = rng() % 7 == 0;
                const int predicted = unanswered ? -1 : (rng() % 2 == 0 ? truth : static_cast<int>(rng() % classes));
                const json config = {{"strategy", strategy}, {"seed", seed}};
                json record = {{"config", config}, {"truth", truth},
                               {"predicted", unanswered ? json(nullptr) : json(predicted)}};
                samples.push_back({item_key(config, "img" + std::to_string(i)), samples.size(), record, std::nullopt});
                reference["truth"].push_back(truth);
                // The "no answer" class is index `classes`, as summarise_groups counts it.
                reference["predicted"].push_back(unanswered ? static_cast<int>(classes) : predicted);
                reference["probabilities"].push_back(std::vector<double>(classes + 1, 1.0 / (classes + 1)));
                reference["confidence"].push_back(0.5);
                reference["correct"].push_back(false);
            }
            cases.push_back(reference);
        }
    }
    samples.push_back({"failed", samples.size(), {{"config", {{"strategy", "a"}, {"seed", 0}}}},
                       json{{"kind", "invalid_input"}, {"message", "x"}}});
    TempDir dir("eval_summary");
    std::ofstream(dir.path() / "cases.json") << cases.dump();
    const json expected = dermlens::test::python_reference("tests/metrics/metrics_reference.py",
                                                           {(dir.path() / "cases.json").string()});

    const std::vector<GroupSummary> groups =
        summarise_groups(samples, [&](const json &) { return classes; }, {5, 200, 0});
    ASSERT_EQ(groups.size(), 2u);
    for (std::size_t g = 0; g < groups.size(); ++g) {
        EXPECT_EQ(groups[g].seeds, 3u);
        EXPECT_EQ(groups[g].samples, 120u);
        EXPECT_EQ(groups[g].failed, g == 0 ? 1u : 0u);
        for (const char * metric : {"accuracy", "macro_f1", "balanced_accuracy", "macro_precision", "macro_recall"}) {
            std::vector<double> per_seed;
            for (int seed = 0; seed < 3; ++seed) {
                per_seed.push_back(expected[g * 3 + static_cast<std::size_t>(seed)][metric].get<double>());
            }
            const MeanStd spread = mean_std(per_seed);
            const MetricValue * value = groups[g].metric(metric);
            ASSERT_NE(value, nullptr) << metric;
            EXPECT_NEAR(value->mean, spread.mean, 1e-12) << metric;
            EXPECT_NEAR(value->std, spread.std, 1e-12) << metric;
        }
        const MetricValue * accuracy = groups[g].metric("accuracy");
        ASSERT_TRUE(accuracy->interval.has_value());
        EXPECT_LE(accuracy->interval->low, accuracy->interval->high);
        EXPECT_EQ(groups[g].metric("roc_auc"), nullptr);  // no probabilities recorded
        EXPECT_EQ(groups[g].confusion.sum(), 120);
        EXPECT_EQ(groups[g].confusion.rows(), static_cast<Eigen::Index>(classes + 1));
    }
    EXPECT_EQ(find_group(groups, {{"strategy", "b"}}), &groups[1]);
    EXPECT_EQ(find_group(groups, {{"strategy", "c"}}), nullptr);
    EXPECT_EQ(percent_cell(nullptr, "accuracy"), "-");
}

TEST(EvalSummary, RefusesRecordsWithoutAValidClassIndex) {
    const json config = {{"seed", 0}};
    const std::vector<StoredSample> bad{{"k", 0, {{"config", config}, {"truth", 7}, {"predicted", 0}}, std::nullopt}};
    expect_error([&] { summarise_groups(bad, [](const json &) { return std::size_t{3}; }, {}); }, ErrorKind::InvalidInput,
                 {"sample 'k': truth 7 is not a class index below 3"});
}

}  // namespace
