// Generated splits: stratified, seeded, patients kept together.
#include "dermlens/error.h"
#include "dataset/split.h"

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

namespace {

using namespace dermlens::dataset;

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

}  // namespace
