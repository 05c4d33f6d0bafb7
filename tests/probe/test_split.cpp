// Generated splits (stratified, patients kept together), k-shot sampling and stratified folds.
#include "dermlens/error.h"
#include "probe/split.h"

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

namespace {

using namespace dermlens::probe;

std::vector<std::string> labels_of(std::size_t per_class, std::size_t classes) {
    std::vector<std::string> labels;
    for (std::size_t c = 0; c < classes; ++c) {
        for (std::size_t i = 0; i < per_class; ++i) {
            labels.push_back(fmt::format("c{}", c));
        }
    }
    return labels;
}

TEST(MakeSplits, FollowsTheProportionsPerClass) {
    const auto labels = labels_of(100, 3);
    const std::vector<std::string> patients(labels.size());
    const auto splits = make_splits(labels, patients, 7);
    std::map<std::string, std::map<std::string, int>> counts;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        ++counts[labels[i]][splits[i]];
    }
    for (const auto & [label, per_split] : counts) {
        EXPECT_EQ(per_split.at("train"), 60) << label;
        EXPECT_EQ(per_split.at("val"), 10) << label;
        EXPECT_EQ(per_split.at("calib"), 15) << label;
        EXPECT_EQ(per_split.at("test"), 15) << label;
    }
}

TEST(MakeSplits, IsSeededAndDeterministic) {
    const auto labels = labels_of(40, 4);
    const std::vector<std::string> patients(labels.size());
    EXPECT_EQ(make_splits(labels, patients, 3), make_splits(labels, patients, 3));
    EXPECT_NE(make_splits(labels, patients, 3), make_splits(labels, patients, 4));
}

TEST(MakeSplits, KeepsAPatientInOneSplit) {
    auto labels = labels_of(60, 2);
    std::vector<std::string> patients;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        patients.push_back(fmt::format("p{}", i % 23));  // patients with images of both classes
    }
    patients[5] = "";  // a row without a patient is a group of its own
    for (std::uint64_t seed = 0; seed < 10; ++seed) {
        const auto splits = make_splits(labels, patients, seed);
        std::map<std::string, std::set<std::string>> splits_of_patient;
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (!patients[i].empty()) {
                splits_of_patient[patients[i]].insert(splits[i]);
            }
        }
        for (const auto & [patient, where] : splits_of_patient) {
            EXPECT_EQ(where.size(), 1u) << patient << " seed " << seed;
        }
        EXPECT_GT(std::count(splits.begin(), splits.end(), "train"), 40);
    }
}

TEST(MakeSplits, RefusesBadProportions) {
    SplitProportions bad{0.5, 0.5, 0.5, 0.0};
    EXPECT_THROW(make_splits({"a"}, {""}, 0, bad), dermlens::Error);
    bad = {0.0, 0.5, 0.25, 0.25};
    EXPECT_THROW(bad.validate(), dermlens::Error);
}

TEST(SampleShots, TakesKPerClassWithoutReplacement) {
    std::vector<int> classes;
    for (int i = 0; i < 90; ++i) {
        classes.push_back(i % 3);
    }
    classes.push_back(2);  // class 2 has 31 rows
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < classes.size(); ++i) {
        rows.push_back(i);
    }
    const auto sample = sample_shots(classes, rows, 3, 8, 42);
    ASSERT_EQ(sample.size(), 24u);
    EXPECT_EQ(std::set<std::size_t>(sample.begin(), sample.end()).size(), 24u);
    for (std::size_t i = 0; i < sample.size(); ++i) {
        EXPECT_EQ(classes[sample[i]], static_cast<int>(i / 8));  // grouped by class, in class order
    }
    EXPECT_EQ(sample, sample_shots(classes, rows, 3, 8, 42));
    EXPECT_NE(sample, sample_shots(classes, rows, 3, 8, 43));
    EXPECT_EQ(sample_shots(classes, rows, 3, 0, 42).size(), classes.size());  // 0 shots: every row
    EXPECT_EQ(sample_shots(classes, rows, 3, 100, 42).size(), classes.size());  // fewer rows than k: all of them
}

TEST(SampleShots, OnlyFromTheGivenRows) {
    const std::vector<int> classes = {0, 1, 0, 1, 0, 1};
    const auto sample = sample_shots(classes, {0, 1, 2, 3}, 2, 5, 1);
    EXPECT_THAT(sample, testing::UnorderedElementsAre(0u, 1u, 2u, 3u));
}

TEST(StratifiedFolds, BalanceClassesOverFolds) {
    std::vector<int> classes;
    for (int i = 0; i < 53; ++i) {
        classes.push_back(i % 4 == 3 ? 1 : (i % 4) * 2);  // classes 0, 2, 4 and 1, unevenly
    }
    const auto folds = stratified_folds(classes, 5);
    std::map<int, std::map<int, int>> per_class;
    for (std::size_t i = 0; i < classes.size(); ++i) {
        ++per_class[classes[i]][folds[i]];
    }
    for (const auto & [c, per_fold] : per_class) {
        ASSERT_EQ(per_fold.size(), 5u) << c;
        int low = 1000;
        int high = 0;
        for (const auto & [fold, count] : per_fold) {
            low = std::min(low, count);
            high = std::max(high, count);
        }
        EXPECT_LE(high - low, 1) << c;
    }
    EXPECT_THROW(stratified_folds(classes, 1), dermlens::Error);
}

}  // namespace
