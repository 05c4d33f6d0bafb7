// k-shot sampling and stratified folds.
#include "dermlens/error.h"
#include "probe/sampling.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

namespace {

using namespace dermlens::probe;

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
