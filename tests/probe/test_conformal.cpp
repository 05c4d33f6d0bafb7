// Split-conformal sets: the LAC / APS / RAPS scores on hand-computed rows, the uniform
// draws, the finite-sample quantile and its minimum, set construction within size limits,
// class-conditional thresholds, RAPS's held-apart choice of lambda and k_reg, and the
// group-conditional quantiles. (Coverage over random splits: test_conformal_coverage.cpp;
// equality with a NumPy reference: test_conformal_reference.cpp.)
#include "dermlens/error.h"
#include "probe/calibration.h"
#include "probe/conformal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>

namespace {

using namespace dermlens::probe;
using testing::ElementsAre;

const Eigen::RowVectorXd kRow{{0.1, 0.5, 0.3, 0.1}};  // ranked 1, 2, 0, 3

std::vector<double> all(double q) {
    return std::vector<double>(4, q);
}

TEST(Conformal, ScoreNamesRoundTrip) {
    for (const char * name : {"lac", "aps", "raps", "aps-plain", "raps-plain"}) {
        EXPECT_EQ(conformal_score_name(parse_conformal_score(name)), name);
    }
    EXPECT_TRUE(parse_conformal_score("aps").randomized);
    EXPECT_FALSE(parse_conformal_score("aps-plain").randomized);
    EXPECT_EQ(ConformalParams{}.score, ConformalScore::Lac);  // the default (docs/probes.md)
    EXPECT_THROW(parse_conformal_score("thr"), dermlens::Error);
    EXPECT_THROW((ConformalParams{ConformalScore::Lac, true, 0.0, 0}.validate()), dermlens::Error);
}

TEST(Conformal, LacScoreIsOneMinusTheClassProbability) {
    const ConformalParams lac;
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 1, lac, 0.3), 0.5);
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 2, lac, 0.3), 0.7);
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 3, lac, 0.3), 0.9);
}

TEST(Conformal, ApsScoreIsTheMassAboveThePlusAShareOfItsOwn) {
    const ConformalParams plain = parse_conformal_score("aps-plain");
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 1, plain, 0.25), 0.5);
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 2, plain, 0.25), 0.8);
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 0, plain, 0.25), 0.9);  // equal probabilities keep class order: 0 before 3
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 3, plain, 0.25), 1.0);
    const ConformalParams aps = parse_conformal_score("aps");
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 1, aps, 0.25), 0.125);
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 2, aps, 0.25), 0.5 + 0.075);
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 3, aps, 0.0), 0.9);
}

TEST(Conformal, RapsPenalisesRanksBeyondKReg) {
    const ConformalParams raps{ConformalScore::Raps, false, 0.2, 1};
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 1, raps, 0.5), 0.5);        // rank 1
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 2, raps, 0.5), 0.8 + 0.2);  // rank 2
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 3, raps, 0.5), 1.0 + 0.6);  // rank 4
    const ConformalParams randomized{ConformalScore::Raps, true, 0.2, 1};
    EXPECT_DOUBLE_EQ(conformal_score(kRow, 2, randomized, 0.5), 0.5 + 0.15 + 0.2);
    EXPECT_THROW((ConformalParams{ConformalScore::Raps, true, -1.0, 0}.validate()), dermlens::Error);
}

TEST(Conformal, UniformDrawsAreFixedAndSpreadOverTheUnitInterval) {
    EXPECT_EQ(uniform_draw(7, 3), uniform_draw(7, 3));
    EXPECT_NE(uniform_draw(7, 3), uniform_draw(8, 3));
    double sum = 0.0;
    std::size_t below_tenth = 0;
    for (std::size_t i = 0; i < 20000; ++i) {
        const double u = uniform_draw(1, i);
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
        sum += u;
        below_tenth += u < 0.1 ? 1 : 0;
    }
    EXPECT_NEAR(sum / 20000, 0.5, 0.01);  // s.e. 0.002
    EXPECT_NEAR(static_cast<double>(below_tenth) / 20000, 0.1, 0.007);  // s.e. 0.0021
}

TEST(Conformal, QuantileIsTheCeilNPlusOneOrderStatistic) {
    std::vector<double> scores(99);
    std::iota(scores.begin(), scores.end(), 1.0);  // 1 .. 99
    EXPECT_EQ(conformal_quantile(scores, 0.1), 90.0);   // ceil(100 * 0.9) = 90
    EXPECT_EQ(conformal_quantile(scores, 0.05), 95.0);  // ceil(100 * 0.95) = 95
    EXPECT_EQ(conformal_quantile(scores, 0.5), 50.0);
    // ceil(1 / alpha) - 1 rows are the fewest with a finite quantile.
    EXPECT_EQ(minimum_calibration_rows(0.1), 9u);
    EXPECT_EQ(minimum_calibration_rows(0.05), 19u);
    EXPECT_EQ(minimum_calibration_rows(0.2), 4u);
    EXPECT_EQ(minimum_calibration_rows(0.3), 3u);  // ceil(3.33) - 1: n = 3 gives ceil(4 * 0.7) = 3
    for (const double alpha : {0.05, 0.1, 0.2, 0.3}) {
        const std::size_t n = minimum_calibration_rows(alpha);
        EXPECT_NO_THROW(conformal_quantile(std::vector<double>(n, 0.5), alpha)) << alpha;
        EXPECT_THROW(conformal_quantile(std::vector<double>(n - 1, 0.5), alpha), dermlens::Error) << alpha;
    }
    EXPECT_THROW(conformal_quantile(scores, 0.0), dermlens::Error);
}

TEST(Conformal, SetIsTheRankedPrefixWithinTheSizeLimits) {
    const ConformalParams aps = parse_conformal_score("aps-plain");
    EXPECT_THAT(prediction_set(kRow, all(0.85), aps, 1.0, 1, 0), ElementsAre(1u, 2u));
    EXPECT_THAT(prediction_set(kRow, all(0.8), aps, 1.0, 1, 0), ElementsAre(1u, 2u));  // score == q_hat: in
    EXPECT_THAT(prediction_set(kRow, all(0.3), aps, 1.0, 0, 0), ElementsAre());         // empty without a minimum
    EXPECT_THAT(prediction_set(kRow, all(0.3), aps, 1.0, 1, 0), ElementsAre(1u));
    EXPECT_THAT(prediction_set(kRow, all(0.3), aps, 1.0, 3, 0), ElementsAre(1u, 2u, 0u));
    EXPECT_THAT(prediction_set(kRow, all(1.0), aps, 1.0, 1, 2), ElementsAre(1u, 2u));
    EXPECT_THAT(prediction_set(kRow, all(1.0), aps, 1.0, 9, 0), ElementsAre(1u, 2u, 0u, 3u));
    const ConformalParams raps{ConformalScore::Raps, false, 0.5, 1};
    EXPECT_THAT(prediction_set(kRow, all(0.99), raps, 1.0, 1, 0), ElementsAre(1u));  // rank 2 costs 0.8 + 0.5
    const ConformalParams lac;
    EXPECT_THAT(prediction_set(kRow, all(0.75), lac, 0.0, 0, 0), ElementsAre(1u, 2u));  // p >= 0.25
    // A randomised set: u = 0.1 lets the first class in at q_hat 0.05 (0.1 * 0.5), not at 0.04.
    EXPECT_THAT(prediction_set(kRow, all(0.05), parse_conformal_score("aps"), 0.1, 0, 0), ElementsAre(1u));
    EXPECT_THAT(prediction_set(kRow, all(0.04), parse_conformal_score("aps"), 0.1, 0, 0), ElementsAre());
}

TEST(Conformal, ClassThresholdsNeedNotMakeAPrefix) {
    const ConformalParams lac;
    // Class 2 (p 0.3, score 0.7) is held to 0.6 while class 0 (score 0.9) is allowed 0.95.
    const std::vector<double> thresholds{0.95, 0.6, 0.6, 0.0};
    EXPECT_THAT(prediction_set(kRow, thresholds, lac, 0.0, 0, 0), ElementsAre(1u, 0u));
    EXPECT_THAT(prediction_set(kRow, thresholds, lac, 0.0, 3, 0), ElementsAre(1u, 2u, 0u));  // the likeliest missing fill up
    EXPECT_THAT(prediction_set(kRow, thresholds, lac, 0.0, 0, 1), ElementsAre(1u));
    EXPECT_THROW(prediction_set(kRow, {0.5}, lac, 0.0, 0, 0), dermlens::Error);
}

TEST(Calibration, MondrianTakesAQuantilePerClassAndWarnsOfSmallClasses) {
    // 12 rows of class 0 and 3 of class 1, LAC scores 1 - p.
    Eigen::MatrixXd p(15, 2);
    std::vector<int> labels;
    for (int i = 0; i < 15; ++i) {
        const double own = 0.5 + 0.03 * i;
        const int label = i < 12 ? 0 : 1;
        p(i, label) = own;
        p(i, 1 - label) = 1.0 - own;
        labels.push_back(label);
    }
    ConformalOptions options;
    options.per_class = true;
    const Calibration calibration = calibrate(p, labels, options, 0.1, 0);
    EXPECT_THAT(calibration.rows_per_class(2), ElementsAre(12u, 3u));
    EXPECT_THAT(calibration.undercalibrated_classes(0.1, 2), ElementsAre(1u));
    const std::vector<double> thresholds = calibration.thresholds(0.1, 2);
    // Class 0: scores 1 - (0.5 + 0.03 i), i < 12; the ceil(13 * 0.9) = 12th smallest is the largest, i = 0.
    EXPECT_NEAR(thresholds[0], 0.5, 1e-12);
    EXPECT_TRUE(std::isinf(thresholds[1]));  // 3 < 9 rows: always in the set
    EXPECT_THAT(calibration.undercalibrated_classes(0.25, 2), ElementsAre());  // 3 rows suffice at alpha 0.25
    options.per_class = false;
    EXPECT_THAT(calibrate(p, labels, options, 0.1, 0).undercalibrated_classes(0.1, 2), ElementsAre());
}

TEST(Calibration, RapsChoosesLambdaAndKRegOnHeldApartRows) {
    Eigen::MatrixXd p(100, 3);
    std::vector<int> labels;
    for (int i = 0; i < 100; ++i) {
        p.row(i) << 0.7, 0.2, 0.1;
        labels.push_back(i % 10 == 0 ? 2 : i % 5 == 0 ? 1 : 0);
    }
    ConformalOptions options;
    options.params = parse_conformal_score("raps");
    const Calibration tuned = calibrate(p, labels, options, 0.1, 5);
    ASSERT_TRUE(tuned.tuning.has_value());
    EXPECT_EQ(tuned.tuning->rows, 30u);
    EXPECT_EQ(raps_tuning_rows(100, 5).size(), 30u);
    EXPECT_EQ(tuned.labels.size(), 70u);  // the quantile's rows: the rest
    EXPECT_TRUE(tuned.tuning->k_reg_chosen && tuned.tuning->lambda_chosen);
    EXPECT_EQ(tuned.tuning->mean_sizes.size(), raps_lambda_grid().size());
    options.lambda = 0.3;
    options.k_reg = 2;
    const Calibration given = calibrate(p, labels, options, 0.1, 5);
    EXPECT_FALSE(given.tuning.has_value());
    EXPECT_EQ(given.params, (ConformalParams{ConformalScore::Raps, true, 0.3, 2}));
    EXPECT_EQ(given.labels.size(), 100u);
    options.params = parse_conformal_score("lac");
    EXPECT_THROW(options.validate(), dermlens::Error);  // lambda belongs to raps
    ConformalOptions raps;
    raps.params = parse_conformal_score("raps");
    EXPECT_THROW(calibrate(p.topRows(20), std::vector<int>(labels.begin(), labels.begin() + 20), raps, 0.1, 5),
                 dermlens::Error);  // 6 held apart: too few for alpha 0.1
}

TEST(Calibration, RecalibrationNeedsTheRows) {
    const Eigen::MatrixXd p{{0.7, 0.3}, {0.4, 0.6}, {0.5, 0.5}, {0.9, 0.1}, {0.2, 0.8}};
    const std::vector<int> labels{0, 1, 0, 0, 1};
    Calibration calibration = calibrate(p, labels, {}, 0.2, 0);
    ConformalOptions aps;
    aps.params = parse_conformal_score("aps");
    EXPECT_EQ(recalibrate(calibration, aps).params.score, ConformalScore::Aps);
    calibration.labels.clear();  // as read from an old probe file
    calibration.probabilities.resize(0, 0);
    EXPECT_THROW(recalibrate(calibration, aps), dermlens::Error);
}

TEST(Calibration, GroupQuantilesPerGroup) {
    std::vector<double> scores;
    std::vector<std::string> groups;
    for (int i = 0; i < 20; ++i) {
        scores.push_back(i);
        groups.emplace_back(i < 10 ? "I-II" : "V-VI");
    }
    scores.push_back(100);
    groups.emplace_back("III");
    std::vector<std::string> too_few;
    const auto q = group_quantiles(scores, groups, 0.1, &too_few);
    EXPECT_EQ(q.at("I-II"), 9.0);    // ceil(11 * 0.9) = 10th of 0..9
    EXPECT_EQ(q.at("V-VI"), 19.0);
    EXPECT_TRUE(std::isinf(q.at("III")));
    EXPECT_THAT(too_few, ElementsAre("III"));
}

}  // namespace
