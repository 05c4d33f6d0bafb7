// Training probes on a feature table: splits, seeds, calibration, evaluation.
#include "dermlens/error.h"
#include "probe/train.h"
#include "synthetic.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace dermlens::probe;
using dermlens::test::as_table;
using dermlens::test::gaussian_classes;
using testing::HasSubstr;

dermlens::vision::FeatureTable table_of(std::size_t n = 400, double separation = 1.0) {
    return as_table(gaussian_classes(n, 16, 4, separation, 9));
}

TEST(TrainProbes, LogRegOverSeedsWithAGeneratedSplit) {
    TrainParams params;
    params.seeds = 3;
    const TrainReport report = train_probes(table_of(), params, "synthetic");
    EXPECT_TRUE(report.split_generated);
    EXPECT_EQ(report.train_rows + report.val_rows + report.calib_rows + report.test_rows, 400u);
    EXPECT_EQ(report.train_rows, 240u);
    ASSERT_EQ(report.runs.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        const Probe & probe = report.runs[i].probe;
        EXPECT_EQ(probe.training.seed, i);
        EXPECT_THAT(probe.training.rows_per_class, testing::Each(8u));
        EXPECT_THAT(probe.classes, testing::ElementsAre("class0", "class1", "class2", "class3"));
        EXPECT_EQ(probe.hyperparameters.selection, Selection::CrossValidation);
        EXPECT_EQ(probe.hyperparameters.cv_folds, 5u);
        ASSERT_TRUE(probe.calibration.has_value());
        EXPECT_EQ(probe.calibration->scores.size(), report.calib_rows);
        ASSERT_TRUE(report.runs[i].test.has_value());
        EXPECT_EQ(report.runs[i].test->rows, report.test_rows);
        EXPECT_GT(report.runs[i].test->accuracy, 0.7);
        ASSERT_TRUE(report.runs[i].test->conformal.has_value());
        EXPECT_GT(report.runs[i].test->conformal->coverage, 0.75);
    }
    // Seeds change the sampled shots, hence the probes; the same seed repeats exactly.
    EXPECT_NE(report.runs[0].probe.weights, report.runs[1].probe.weights);
    params.seeds = 1;
    const TrainReport again = train_probes(table_of(), params, "synthetic");
    EXPECT_EQ(again.runs[0].probe.weights, report.runs[0].probe.weights);
}

TEST(TrainProbes, LinearHeadChoosesItsLearningRate) {
    TrainParams params;
    params.method = ProbeMethod::Linear;
    params.seeds = 1;
    params.shots = 0;  // every training row
    const TrainReport report = train_probes(table_of(), params, "synthetic");
    const Probe & probe = report.runs[0].probe;
    EXPECT_EQ(probe.hyperparameters.selection, Selection::Validation);
    EXPECT_THAT(probe.hyperparameters.lr_grid, testing::ElementsAre(3e-5f, 3e-4f, 3e-3f));
    EXPECT_THAT(probe.hyperparameters.lr_grid, testing::Contains(probe.hyperparameters.learning_rate));
    EXPECT_EQ(probe.hyperparameters.epochs, 100u);
    EXPECT_EQ(probe.hyperparameters.batch_size, 128u);
    EXPECT_EQ(probe.training.rows_per_class, (std::vector<std::size_t>{60, 60, 60, 60}));
    EXPECT_GT(report.runs[0].test->accuracy, 0.7);
}

TEST(TrainProbes, OneShotChoosesCOnTheValidationSplit) {
    TrainParams params;
    params.shots = 1;
    params.seeds = 1;
    const Probe probe = train_probes(table_of(), params, "synthetic").runs[0].probe;
    EXPECT_EQ(probe.hyperparameters.selection, Selection::Validation);
    EXPECT_EQ(probe.hyperparameters.c_scores.size(), 7u);
}

TEST(TrainProbes, UsesTheTablesSplitsAndStandardises) {
    auto table = table_of(200);
    for (std::size_t i = 0; i < table.size(); ++i) {
        table.splits[i] = i < 120 ? "train" : (i < 160 ? "calib" : "test");
    }
    TrainParams params;
    params.seeds = 1;
    params.shots = 0;
    params.c = 0.5;
    params.standardise = true;
    params.alpha = 0.2;
    params.conformal.params = parse_conformal_score("raps-plain");
    params.conformal.lambda = 0.05;
    params.conformal.k_reg = 2;
    const TrainReport report = train_probes(table, params, "synthetic");
    EXPECT_FALSE(report.split_generated);
    EXPECT_EQ(report.train_rows, 120u);
    EXPECT_EQ(report.val_rows, 0u);
    const Probe & probe = report.runs[0].probe;
    EXPECT_EQ(probe.hyperparameters.selection, Selection::Given);
    EXPECT_EQ(probe.hyperparameters.c, 0.5);
    EXPECT_TRUE(probe.normalisation.standardise);
    EXPECT_EQ(probe.normalisation.mean.size(), 16);
    EXPECT_EQ(probe.calibration->params, (ConformalParams{ConformalScore::Raps, false, 0.05, 2}));
    EXPECT_EQ(probe.calibration->alpha, 0.2);
}

TEST(TrainProbes, OrdersClassesAsTheLabelSet) {
    TrainParams params;
    params.seeds = 1;
    params.class_order = {"class3", "other", "class1", "class0", "class2"};
    params.label_set = "mine";
    const Probe probe = train_probes(table_of(), params, "synthetic").runs[0].probe;
    EXPECT_THAT(probe.classes, testing::ElementsAre("class3", "class1", "class0", "class2"));
    EXPECT_EQ(probe.label_set, "mine");
    params.class_order = {"class0", "class1"};
    try {
        train_probes(table_of(), params, "synthetic");
        FAIL();
    } catch (const dermlens::Error & e) {
        EXPECT_THAT(e.what(), HasSubstr("label 'class2' is not in label set 'mine'"));
    }
}

TEST(TrainProbes, RefusesTablesItCannotUse) {
    TrainParams params;
    params.seeds = 1;
    const auto expect_error = [&](const dermlens::vision::FeatureTable & table, const TrainParams & p,
                                  const std::string & message) {
        try {
            train_probes(table, p, "t.csv");
            ADD_FAILURE() << "no error for " << message;
        } catch (const dermlens::Error & e) {
            EXPECT_THAT(e.what(), HasSubstr(message));
        }
    };
    auto unlabelled = table_of(100);
    unlabelled.labels[7].clear();
    expect_error(unlabelled, params, "features file 't.csv': row 7 ('img7.jpg') has no label");
    auto mixed = table_of(100);
    mixed.splits[0] = "train";
    expect_error(mixed, params, "1 of 100 rows have a split");
    auto no_train = table_of(100);
    for (std::size_t i = 0; i < no_train.size(); ++i) {
        no_train.splits[i] = no_train.labels[i] == "class2" ? "test" : "train";
    }
    expect_error(no_train, params, "class 'class2' has no row in the train split");
    auto few_calib = table_of(100);
    for (std::size_t i = 0; i < few_calib.size(); ++i) {
        few_calib.splits[i] = i < 5 ? "calib" : "train";
    }
    expect_error(few_calib, params, "calib split: 5 calibration rows are too few for alpha 0.1");
    TrainParams linear = params;
    linear.method = ProbeMethod::Linear;
    auto no_val = table_of(100);
    for (std::size_t i = 0; i < no_val.size(); ++i) {
        no_val.splits[i] = "train";
    }
    expect_error(no_val, linear, "learning_rate: features file 't.csv' has no val rows to choose it on; give one");
    TrainParams bad = params;
    bad.seeds = 0;
    EXPECT_THROW(train_probes(table_of(100), bad, "t.csv"), dermlens::Error);
}

}  // namespace
