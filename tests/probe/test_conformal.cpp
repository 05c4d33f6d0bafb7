// Split-conformal sets: the APS / RAPS scores, the finite-sample quantile, set
// construction, and coverage over many random calibration/test splits.
//
// The coverage check. With n calibration rows, k = ceil((n + 1)(1 - alpha)), and
// distinct scores, the number K of covered rows among m test rows drawn with them
// by a random split of exchangeable rows follows BetaBinomial(m, k, n + 1 - k)
// exactly (a negative hypergeometric count; Angelopoulos & Bates, "A gentle
// introduction to conformal prediction", section 3.2, and Vovk 2012). Its mean is
// k / (n + 1), between 1 - alpha and 1 - alpha + 1/(n + 1). So the test asserts:
//  1. the mean coverage over the splits is within 0.02 of 1 - alpha (the bound)
//     and, sharper, within 4 standard errors of k / (n + 1);
//  2. no split's coverage is below the 1e-6 quantile of that beta-binomial — the
//     finite-sample bound for one split: under the theory, the chance that any of the
//     splits falls below it is at most splits x 1e-6.
#include "dermlens/error.h"
#include "probe/conformal.h"
#include "probe/logreg.h"
#include "metrics/metrics.h"
#include "common/random.h"
#include "synthetic.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace {

using namespace dermlens::probe;
using dermlens::shuffle;
namespace metrics = dermlens::metrics;
using dermlens::test::gaussian_classes;
using testing::ElementsAre;

TEST(Conformal, ApsScoreIsTheMassRankedAtOrAboveTheClass) {
    const Eigen::RowVectorXd p{{0.1, 0.5, 0.3, 0.1}};
    const ConformalParams aps;
    EXPECT_DOUBLE_EQ(conformal_score(p, 1, aps), 0.5);
    EXPECT_DOUBLE_EQ(conformal_score(p, 2, aps), 0.8);
    EXPECT_DOUBLE_EQ(conformal_score(p, 0, aps), 0.9);  // equal probabilities keep class order: 0 before 3
    EXPECT_DOUBLE_EQ(conformal_score(p, 3, aps), 1.0);
}

TEST(Conformal, RapsPenalisesRanksBeyondKReg) {
    const Eigen::RowVectorXd p{{0.1, 0.5, 0.3, 0.1}};
    const ConformalParams raps{ConformalScore::Raps, 0.2, 1};
    EXPECT_DOUBLE_EQ(conformal_score(p, 1, raps), 0.5);        // rank 1
    EXPECT_DOUBLE_EQ(conformal_score(p, 2, raps), 0.8 + 0.2);  // rank 2
    EXPECT_DOUBLE_EQ(conformal_score(p, 3, raps), 1.0 + 0.6);  // rank 4
    EXPECT_THROW((ConformalParams{ConformalScore::Raps, -1.0, 0}.validate()), dermlens::Error);
}

TEST(Conformal, QuantileIsTheCeilNPlusOneOrderStatistic) {
    std::vector<double> scores(99);
    std::iota(scores.begin(), scores.end(), 1.0);  // 1 .. 99
    EXPECT_EQ(conformal_quantile(scores, 0.1), 90.0);   // ceil(100 * 0.9) = 90
    EXPECT_EQ(conformal_quantile(scores, 0.05), 95.0);  // ceil(100 * 0.95) = 95
    EXPECT_EQ(conformal_quantile(scores, 0.5), 50.0);
    const std::vector<double> few = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8};
    EXPECT_THROW(conformal_quantile(few, 0.1), dermlens::Error);  // 9 rows needed for alpha 0.1
    EXPECT_NO_THROW(conformal_quantile({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}, 0.1));
    EXPECT_THROW(conformal_quantile(scores, 0.0), dermlens::Error);
}

TEST(Conformal, SetIsTheRankedPrefixWithinTheSizeLimits) {
    const Eigen::RowVectorXd p{{0.1, 0.5, 0.3, 0.1}};
    const ConformalParams aps;
    EXPECT_THAT(prediction_set(p, 0.85, aps, 1, 0), ElementsAre(1u, 2u));
    EXPECT_THAT(prediction_set(p, conformal_score(p, 2, aps), aps, 1, 0), ElementsAre(1u, 2u));  // score == q_hat: in
    EXPECT_THAT(prediction_set(p, 0.3, aps, 0, 0), ElementsAre());         // empty without a minimum
    EXPECT_THAT(prediction_set(p, 0.3, aps, 1, 0), ElementsAre(1u));
    EXPECT_THAT(prediction_set(p, 0.3, aps, 3, 0), ElementsAre(1u, 2u, 0u));
    EXPECT_THAT(prediction_set(p, 1.0, aps, 1, 2), ElementsAre(1u, 2u));
    EXPECT_THAT(prediction_set(p, 1.0, aps, 1, 0), ElementsAre(1u, 2u, 0u, 3u));
    EXPECT_THAT(prediction_set(p, 1.0, aps, 9, 0), ElementsAre(1u, 2u, 0u, 3u));
    const ConformalParams raps{ConformalScore::Raps, 0.5, 1};
    EXPECT_THAT(prediction_set(p, 0.99, raps, 1, 0), ElementsAre(1u));  // rank 2 costs 0.8 + 0.5
}

// log P(K = j) of BetaBinomial(m, a, b).
double log_beta_binomial(std::size_t j, std::size_t m, double a, double b) {
    const auto lbeta = [](double x, double y) { return std::lgamma(x) + std::lgamma(y) - std::lgamma(x + y); };
    const double jj = static_cast<double>(j);
    const double mm = static_cast<double>(m);
    return std::lgamma(mm + 1) - std::lgamma(jj + 1) - std::lgamma(mm - jj + 1) + lbeta(jj + a, mm - jj + b) -
           lbeta(a, b);
}

// The smallest j with P(K <= j) >= delta.
std::size_t beta_binomial_lower_quantile(std::size_t m, double a, double b, double delta) {
    double cdf = 0.0;
    for (std::size_t j = 0; j <= m; ++j) {
        cdf += std::exp(log_beta_binomial(j, m, a, b));
        if (cdf >= delta) {
            return j;
        }
    }
    return m;
}

struct CoverageRun {
    double mean_coverage = 0.0;
    std::size_t min_covered = 0;
    double mean_size = 0.0;
};

TEST(Conformal, CoversOneMinusAlphaOverRandomSplits) {
    // A fixed model (fit on its own rows) scores a pool of exchangeable rows; each split
    // draws n calibration rows from the pool at random and tests on the other m.
    const std::size_t k = 5;
    const auto fit_data = gaussian_classes(400, 12, k, 0.45, 100);
    const LinearModel model = fit_logreg(fit_data.features.cast<double>(), fit_data.classes, k, 1.0).model;
    const auto pool = gaussian_classes(400 + 2000, 12, k, 0.45, 100);  // same means; rows 400.. are new
    const Eigen::MatrixXd proba = model.probabilities(pool.features.bottomRows(2000).cast<double>());
    const std::vector<int> truth(pool.classes.end() - 2000, pool.classes.end());
    const std::size_t n = 500;
    const std::size_t m = 1500;
    const std::size_t splits = 250;
    std::printf("pool accuracy %.3f\n", metrics::accuracy(truth, metrics::argmax_rows(proba)));
    for (const ConformalParams params : {ConformalParams{}, ConformalParams{ConformalScore::Raps, 0.01, 2}}) {
        for (const double alpha : {0.05, 0.1, 0.2}) {
            std::mt19937_64 rng(2024);
            std::vector<std::size_t> order(truth.size());
            std::iota(order.begin(), order.end(), std::size_t{0});
            std::vector<double> coverages;
            std::size_t min_covered = m;
            double total_size = 0.0;
            for (std::size_t s = 0; s < splits; ++s) {
                shuffle(order, rng);
                std::vector<double> scores;
                for (std::size_t i = 0; i < n; ++i) {
                    scores.push_back(conformal_score(proba.row(static_cast<Eigen::Index>(order[i])),
                                                     static_cast<std::size_t>(truth[order[i]]), params));
                }
                std::sort(scores.begin(), scores.end());
                const double q_hat = conformal_quantile(scores, alpha);
                std::size_t covered = 0;
                for (std::size_t i = n; i < n + m; ++i) {
                    const auto set = prediction_set(proba.row(static_cast<Eigen::Index>(order[i])), q_hat, params, 0, 0);
                    covered += std::find(set.begin(), set.end(), static_cast<std::size_t>(truth[order[i]])) != set.end();
                    total_size += static_cast<double>(set.size());
                }
                coverages.push_back(static_cast<double>(covered) / static_cast<double>(m));
                min_covered = std::min(min_covered, covered);
            }
            const double kk = std::ceil(static_cast<double>(n + 1) * (1.0 - alpha) - 1e-9);
            const double a = kk;
            const double b = static_cast<double>(n + 1) - kk;
            const double expected = a / (a + b);
            // Variance of K / m for BetaBinomial(m, a, b).
            const double mm = static_cast<double>(m);
            const double variance = expected * (1 - expected) * (a + b + mm) / ((a + b + 1) * mm);
            const double standard_error = std::sqrt(variance / static_cast<double>(splits));
            const metrics::MeanStd coverage = metrics::mean_std(coverages);
            const std::size_t bound = beta_binomial_lower_quantile(m, a, b, 1e-6);
            std::printf("%s alpha %.2f: mean coverage %.4f (theory %.4f, s.e. %.4f), split std %.4f, lowest %.4f "
                        "(bound %.4f), mean set size %.2f\n",
                        conformal_score_name(params.score), alpha, coverage.mean, expected, standard_error,
                        coverage.std, static_cast<double>(min_covered) / mm, static_cast<double>(bound) / mm,
                        total_size / static_cast<double>(splits * m));
            EXPECT_NEAR(coverage.mean, 1.0 - alpha, 0.02) << alpha;
            EXPECT_NEAR(coverage.mean, expected, 4.0 * standard_error) << alpha;
            EXPECT_GE(min_covered, bound) << alpha;
        }
    }
}

TEST(Conformal, CalibrationScoresAreSorted) {
    const Eigen::MatrixXd p{{0.7, 0.3}, {0.4, 0.6}, {0.5, 0.5}};
    const auto scores = calibration_scores(p, {1, 1, 0}, {});
    EXPECT_THAT(scores, ElementsAre(testing::DoubleEq(0.5), testing::DoubleEq(0.6), testing::DoubleEq(1.0)));
    EXPECT_THROW(calibration_scores(p, {1, 1}, {}), dermlens::Error);
}

}  // namespace
