// Probe training and prediction times on random features of paper 000's size
// (MedSigLIP / Gemma 3 vision tower: 1,152 dimensions), 10,000 images of 9 classes.
//
//   cmake -B build -DDERMLENS_BENCH=ON && cmake --build build --target bench_probe
//   ./build/bin/bench_probe --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include "probe/calibration.h"
#include "probe/candidates.h"
#include "probe/evaluate.h"
#include "probe/linear_head.h"
#include "probe/logreg.h"
#include "probe/probe.h"
#include "common/random.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>

namespace {

using namespace dermlens::probe;

constexpr Eigen::Index kRows = 10000;
constexpr Eigen::Index kDimension = 1152;
constexpr std::size_t kClasses = 9;

struct Data {
    Eigen::MatrixXf features;
    std::vector<int> classes;
};

// Gaussian classes: random class means (0.1 per dimension: overlapping classes), unit noise.
const Data & data() {
    static const Data instance = [] {
        std::mt19937_64 rng(1);
        const auto normal = [&] {
            const double u1 = 1.0 - dermlens::uniform_unit(rng);
            const double u2 = dermlens::uniform_unit(rng);
            return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
        };
        Eigen::MatrixXd means(static_cast<Eigen::Index>(kClasses), kDimension);
        for (Eigen::Index i = 0; i < means.size(); ++i) {
            means.data()[i] = 0.1 * normal();
        }
        Data d;
        d.features.resize(kRows, kDimension);
        for (Eigen::Index i = 0; i < kRows; ++i) {
            const auto c = static_cast<int>(static_cast<std::size_t>(i) % kClasses);
            d.classes.push_back(c);
            for (Eigen::Index j = 0; j < kDimension; ++j) {
                d.features(i, j) = static_cast<float>(means(c, j) + normal());
            }
        }
        return d;
    }();
    return instance;
}

void BM_LogRegFixedC(benchmark::State & state) {
    const Eigen::MatrixXd x = data().features.cast<double>();
    int iterations = 0;
    for (auto _ : state) {
        const LogRegFit fit = fit_logreg(x, data().classes, kClasses, 1.0);
        iterations = fit.solver.iterations;
        benchmark::DoNotOptimize(fit.model.weights.data());
    }
    state.counters["lbfgs_iterations"] = iterations;
}
BENCHMARK(BM_LogRegFixedC)->Unit(benchmark::kMillisecond)->Iterations(1);

// Paper 001: C from 1e-5 ... 1e1 by 5-fold cross-validation on macro ROC-AUC, then the refit.
void BM_LogRegGridCrossValidation(benchmark::State & state) {
    const Eigen::MatrixXd x = data().features.cast<double>();
    for (auto _ : state) {
        const CrossValidation cv = cross_validate_c(x, data().classes, kClasses, default_c_grid(), 5);
        const LogRegFit fit = fit_logreg(x, data().classes, kClasses, cv.best_c);
        benchmark::DoNotOptimize(fit.model.weights.data());
    }
}
BENCHMARK(BM_LogRegGridCrossValidation)->Unit(benchmark::kMillisecond)->Iterations(1);

// Paper 000 C.2: AdamW, 100 epochs, batch 128, float32, one learning rate.
void BM_LinearHead100Epochs(benchmark::State & state) {
    for (auto _ : state) {
        const LinearHead head = train_linear_head(data().features, data().classes, kClasses, 3e-4f, {}, 0);
        benchmark::DoNotOptimize(head.weights.data());
    }
}
BENCHMARK(BM_LinearHead100Epochs)->Unit(benchmark::kMillisecond)->Iterations(1);

// One image: probabilities and its conformal candidate set from a trained, calibrated probe.
void BM_PredictOneImage(benchmark::State & state) {
    Probe probe;
    probe.dimension = kDimension;
    for (std::size_t c = 0; c < kClasses; ++c) {
        std::string name = "class";
        name += std::to_string(c);
        probe.classes.push_back(name);
    }
    const Eigen::MatrixXd x = data().features.topRows(2000).cast<double>();
    const std::vector<int> y(data().classes.begin(), data().classes.begin() + 2000);
    const LinearModel model = fit_logreg(x, y, kClasses, 1.0).model;
    probe.weights = model.weights;
    probe.bias = model.bias;
    probe.calibration = calibrate(probe.probabilities(data().features.middleRows(2000, 1000)),
                                  {data().classes.begin() + 2000, data().classes.begin() + 3000}, {}, 0.1, 0);
    CandidateParams params;
    params.mode = CandidateMode::Conformal;
    Eigen::Index row = 3000;
    for (auto _ : state) {
        const Eigen::MatrixXd p = probe.probabilities(data().features.row(row));
        const auto sets = candidate_sets(probe, p, params);
        benchmark::DoNotOptimize(sets.data());
        row = row + 1 < kRows ? row + 1 : 3000;
    }
}
BENCHMARK(BM_PredictOneImage)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
