// Coverage of conformal sets over many random calibration/test splits of synthetic features,
// for a confident probe (the example: 7 classes, 700 calibration rows, alpha 0.1, a
// logistic regression near 98 % accurate) and an unconfident one (near 60 %).
//
// With n calibration rows, k = ceil((n + 1)(1 - alpha)) and scores without ties, the expected
// coverage over random splits of exchangeable rows is k / (n + 1), in [1 - alpha, 1 - alpha +
// 1/(n + 1)] (Vovk 2012; Angelopoulos & Bates, "A gentle introduction to conformal prediction",
// section 3.2). LAC has no ties with continuous probabilities, and randomised APS breaks its ties,
// so both must be within 0.01 of 1 - alpha; every score must be no lower than 1 - alpha by more
// than 3 standard errors of the mean over splits. For LAC and randomised APS the covered count of
// one split is exactly BetaBinomial(m, k, n + 1 - k) (a negative hypergeometric count), so no split
// may fall below that distribution's 1e-6 quantile: under the theory all 200 clear it with
// probability >= 1 - 2e-4. Class-conditional (Mondrian) sets must meet
// 1 - alpha for every class, a rare class included. The sets here have no minimum size (an empty
// set is a miss), as the theory has them; the default minimum of one class only adds coverage.
#include "metrics/metrics.h"
#include "probe/calibration.h"
#include "probe/candidates.h"
#include "probe/conformal.h"
#include "probe/evaluate.h"
#include "probe/train.h"
#include "probe/logreg.h"
#include "common/random.h"
#include "synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace {

using namespace dermlens::probe;
using dermlens::shuffle;
namespace metrics = dermlens::metrics;
using dermlens::test::gaussian_classes;

constexpr std::size_t kClasses = 7;
constexpr std::size_t kCalibration = 700;
constexpr std::size_t kSplits = 200;
constexpr double kAlpha = 0.1;

struct Pool {
    Eigen::MatrixXd probabilities;
    std::vector<int> truth;
};

// A logistic regression fit on 350 rows scores `rows` new rows of the same classes; with
// `rare_every` > 1 the last class keeps only one row in that many (fit and pool alike).
Pool scored_pool(double separation, std::size_t rows, std::uint64_t seed, std::size_t rare_every = 1) {
    const std::size_t fit_rows = 350;
    const auto all = gaussian_classes(fit_rows + rows, 10, kClasses, separation, seed);
    std::vector<Eigen::Index> fit, pool;
    std::size_t rare_seen = 0;
    for (std::size_t i = 0; i < fit_rows + rows; ++i) {
        if (all.classes[i] == static_cast<int>(kClasses) - 1 && rare_seen++ % rare_every != 0) {
            continue;
        }
        (i < fit_rows ? fit : pool).push_back(static_cast<Eigen::Index>(i));
    }
    std::vector<int> fit_y, pool_y;
    for (const auto i : fit) fit_y.push_back(all.classes[static_cast<std::size_t>(i)]);
    for (const auto i : pool) pool_y.push_back(all.classes[static_cast<std::size_t>(i)]);
    const Eigen::MatrixXd x = all.features.cast<double>();
    const LinearModel model = fit_logreg(x(fit, Eigen::all), fit_y, kClasses, 1.0).model;
    return {model.probabilities(x(pool, Eigen::all)), pool_y};
}

struct Outcome {
    std::vector<double> coverage;  // per split
    double size = 0.0, singletons = 0.0, empties = 0.0;  // means over splits
    std::vector<std::vector<double>> class_coverage;      // per class, per split with such test rows
    std::vector<double> clamped_coverage;                 // with the default minimum of one class
    double clamped_size = 0.0, clamped_singletons = 0.0;

    void add(const std::vector<int> & truth, const std::vector<std::vector<std::size_t>> & sets, bool clamped) {
        const metrics::SetStatistics s = metrics::set_statistics(truth, sets);
        if (clamped) {
            clamped_coverage.push_back(s.coverage);
            clamped_size += s.mean_size / kSplits;
            clamped_singletons += s.singleton_share / kSplits;
            return;
        }
        coverage.push_back(s.coverage);
        size += s.mean_size / kSplits;
        singletons += s.singleton_share / kSplits;
        empties += s.empty_share / kSplits;
        const auto per_class = metrics::set_statistics_per_class(truth, sets, kClasses);
        for (std::size_t c = 0; c < kClasses; ++c) {
            if (per_class[c].rows > 0) {
                class_coverage[c].push_back(per_class[c].coverage);
            }
        }
    }
};

// Calibrates on the first kCalibration rows of each seeded shuffle, tests on the rest: the sets
// without a minimum size, and with the default minimum of one class (for marginal sets, which are
// prefixes of the ranking, that only fills an empty set with the most likely class).
Outcome run_splits(const Pool & pool, const ConformalOptions & options) {
    std::mt19937_64 rng(2026);
    std::vector<std::size_t> order(pool.truth.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    Outcome out;
    out.class_coverage.resize(kClasses);
    for (std::size_t split = 0; split < kSplits; ++split) {
        shuffle(order, rng);
        const std::vector<Eigen::Index> calib(order.begin(), order.begin() + kCalibration);
        const std::vector<Eigen::Index> test(order.begin() + kCalibration, order.end());
        std::vector<int> calib_y, test_y;
        for (const auto i : calib) calib_y.push_back(pool.truth[static_cast<std::size_t>(i)]);
        for (const auto i : test) test_y.push_back(pool.truth[static_cast<std::size_t>(i)]);
        Probe probe;
        probe.classes.resize(kClasses);
        probe.calibration = calibrate(pool.probabilities(calib, Eigen::all), calib_y, options, kAlpha, split);
        CandidateParams params;
        params.mode = CandidateMode::Conformal;
        params.set.min_size = 0;
        const Eigen::MatrixXd test_p = pool.probabilities(test, Eigen::all);
        auto sets = candidate_sets(probe, test_p, params);
        out.add(test_y, sets, false);
        if (!options.per_class) {
            const std::vector<int> top = metrics::argmax_rows(test_p);
            for (std::size_t i = 0; i < sets.size(); ++i) {
                if (sets[i].empty()) {
                    sets[i] = {static_cast<std::size_t>(top[i])};
                }
            }
            out.add(test_y, sets, true);
        }
    }
    return out;
}

// log P(K = j) of BetaBinomial(m, a, b).
double log_beta_binomial(std::size_t j, std::size_t m, double a, double b) {
    const auto lbeta = [](double x, double y) { return std::lgamma(x) + std::lgamma(y) - std::lgamma(x + y); };
    const double jj = static_cast<double>(j);
    const double mm = static_cast<double>(m);
    return std::lgamma(mm + 1) - std::lgamma(jj + 1) - std::lgamma(mm - jj + 1) + lbeta(jj + a, mm - jj + b) -
           lbeta(a, b);
}

// The lowest coverage of one split that BetaBinomial(m, k, n + 1 - k) reaches with probability 1e-6.
double lowest_plausible_coverage(std::size_t n, std::size_t m) {
    const double k = std::ceil(static_cast<double>(n + 1) * (1.0 - kAlpha) - 1e-9);
    const double a = k;
    const double b = static_cast<double>(n + 1) - k;
    double cdf = 0.0;
    for (std::size_t j = 0; j <= m; ++j) {
        cdf += std::exp(log_beta_binomial(j, m, a, b));
        if (cdf >= 1e-6) {
            return static_cast<double>(j) / static_cast<double>(m);
        }
    }
    return 1.0;
}

struct Summary {
    double mean = 0.0, standard_error = 0.0;
};

Summary summary(const std::vector<double> & values) {
    const metrics::MeanStd m = metrics::mean_std(values);
    return {m.mean, m.std / std::sqrt(static_cast<double>(values.size()))};
}

ConformalOptions options_for(const std::string & score, bool per_class = false) {
    ConformalOptions options;
    options.params = parse_conformal_score(score);
    options.per_class = per_class;
    return options;
}

// Side by side per score: coverage, mean size, singleton and empty shares, with and without
// the default minimum set size of one class.
void check_probe(const char * name, const Pool & pool) {
    std::printf("%s probe, accuracy %.3f, %zu classes, %zu calibration / %zu test rows, alpha %.2f, %zu splits\n", name,
                metrics::accuracy(pool.truth, metrics::argmax_rows(pool.probabilities)), kClasses, kCalibration,
                pool.truth.size() - kCalibration, kAlpha, kSplits);
    std::printf("  %-10s %9s %7s %7s %9s %7s | min 1: %9s %7s %7s\n", "score", "coverage", "s.e.", "size", "singleton",
                "empty", "coverage", "size", "single");
    for (const char * score : {"lac", "aps", "raps", "aps-plain", "raps-plain"}) {
        const ConformalOptions options = options_for(score);
        const Outcome raw = run_splits(pool, options);
        const Summary coverage = summary(raw.coverage);
        const Summary clamped_coverage = summary(raw.clamped_coverage);
        std::printf("  %-10s %9.4f %7.4f %7.3f %9.3f %7.3f | min 1: %9.4f %7.3f %7.3f\n", score, coverage.mean,
                    coverage.standard_error, raw.size, raw.singletons, raw.empties, clamped_coverage.mean,
                    raw.clamped_size, raw.clamped_singletons);
        SCOPED_TRACE(std::string(name) + " " + score);
        EXPECT_GE(coverage.mean, 1.0 - kAlpha - 3.0 * coverage.standard_error);
        if (std::string(score) == "lac" || std::string(score) == "aps") {
            EXPECT_NEAR(coverage.mean, 1.0 - kAlpha, 0.01);
            const double lowest = *std::min_element(raw.coverage.begin(), raw.coverage.end());
            EXPECT_GE(lowest, lowest_plausible_coverage(kCalibration, pool.truth.size() - kCalibration));
        }
        if (options.params == ConformalParams{} && std::string(name) == "confident") {
            // The example with the default score and the default minimum set size.
            EXPECT_LE(raw.clamped_size, 1.1);
            EXPECT_GE(clamped_coverage.mean, 0.89);
        }
    }
}

TEST(ConformalCoverage, ConfidentProbeCoversOneMinusAlphaWithSmallSets) {
    check_probe("confident", scored_pool(1.7, 1500, 7));
}

TEST(ConformalCoverage, UnconfidentProbeCoversOneMinusAlpha) {
    check_probe("unconfident", scored_pool(0.5, 1500, 8));
}

TEST(ConformalCoverage, ClassConditionalSetsCoverEveryClassIncludingARareOne) {
    const Pool pool = scored_pool(0.35, 1800, 9, 8);
    const std::size_t rare = std::count(pool.truth.begin(), pool.truth.end(), static_cast<int>(kClasses) - 1);
    std::printf("rare class: %zu of %zu pool rows (about %.0f per calibration split; %zu needed at alpha %.2f)\n",
                rare, pool.truth.size(), static_cast<double>(rare * kCalibration) / static_cast<double>(pool.truth.size()),
                minimum_calibration_rows(kAlpha), kAlpha);
    for (const bool per_class : {false, true}) {
        const Outcome outcome = run_splits(pool, options_for("lac", per_class));
        std::printf("  lac %-10s coverage per class:", per_class ? "per class" : "marginal");
        for (std::size_t c = 0; c < kClasses; ++c) {
            std::printf(" %.3f", summary(outcome.class_coverage[c]).mean);
        }
        std::printf(", mean size %.2f\n", outcome.size);
        if (per_class) {
            for (std::size_t c = 0; c < kClasses; ++c) {
                const Summary s = summary(outcome.class_coverage[c]);
                EXPECT_GE(s.mean, 1.0 - kAlpha - 3.0 * s.standard_error) << "class " << c;
            }
        }
    }
}

// Group-conditional sets: images of one group (a skin type, say) are noisier, so the marginal
// sets cover it less than 1 - alpha; with q_hat from each group's own calibration rows every
// group is covered (one split of 2,000 calibration and 2,000 test rows).
TEST(ConformalCoverage, GroupConditionalSetsCoverEveryGroup) {
    auto data = gaussian_classes(5000, 10, 4, 0.9, 11);
    std::mt19937_64 rng(12);
    dermlens::vision::FeatureTable table = dermlens::test::as_table(data);
    std::vector<std::string> groups;
    for (std::size_t i = 0; i < table.size(); ++i) {
        const bool hard = i % 3 == 0;
        groups.emplace_back(hard ? "hard" : "easy");
        if (hard) {
            for (Eigen::Index j = 0; j < table.features.cols(); ++j) {
                table.features(static_cast<Eigen::Index>(i), j) += static_cast<float>(1.5 * dermlens::test::normal(rng));
            }
        }
        table.splits[i] = i % 10 < 2 ? "train" : i % 10 < 6 ? "calib" : "test";
    }
    TrainParams params;
    params.shots = 0;
    params.seeds = 1;
    params.c = 1.0;
    const Probe probe = train_probes(table, params, "groups").runs[0].probe;
    SetParams set;
    set.min_size = 0;
    const auto evaluations = evaluate_groups(probe, table, evaluation_rows(probe, table, "test"),
                                             evaluation_rows(probe, table, "calib"), groups, set, "groups");
    ASSERT_EQ(evaluations.size(), 2u);
    for (const GroupSetEvaluation & g : evaluations) {
        std::printf("group %s: %zu calibration rows, q_hat %.3f; marginal coverage %.3f (size %.2f), "
                    "group-conditional %.3f (size %.2f), %zu test rows\n",
                    g.group.c_str(), g.calibration_rows, g.threshold, g.marginal.coverage, g.marginal.mean_size,
                    g.conditional.coverage, g.conditional.mean_size, g.conditional.rows);
        const double standard_error = std::sqrt(kAlpha * (1 - kAlpha) *
                                                (1.0 / static_cast<double>(g.conditional.rows) +
                                                 1.0 / static_cast<double>(g.calibration_rows)));
        EXPECT_GE(g.conditional.coverage, 1.0 - kAlpha - 3.0 * standard_error) << g.group;
        if (g.group == "hard") {
            EXPECT_LT(g.marginal.coverage, 1.0 - kAlpha - 3.0 * standard_error);  // what the per-group sets fix
        }
    }
}

}  // namespace
