// Training probes on a feature table: splits, k-shot sampling over several seeds,
// fitting (logistic regression or the linear head), conformal calibration on the
// calib split and evaluation on the test split (docs/probes.md).
#pragma once

#include "probe/calibration.h"
#include "probe/evaluate.h"
#include "probe/lbfgs.h"
#include "probe/linear_head.h"
#include "probe/logreg.h"
#include "probe/probe.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::probe {

struct TrainParams {
    ProbeMethod method = ProbeMethod::LogReg;
    std::size_t shots = 8;     // per class from the train split; 0 = all training rows
    std::uint64_t seed = 0;    // the split (when generated) and the first repetition
    std::size_t seeds = 5;     // repetitions with seeds seed, seed + 1, ...
    bool standardise = false;  // z-score features with the training rows' mean and standard deviation

    std::optional<double> c;                       // logreg: fixed C, else chosen from c_grid
    std::vector<double> c_grid = default_c_grid();
    std::size_t cv_folds = 5;
    LbfgsOptions solver;

    std::optional<float> learning_rate;            // linear: fixed, else chosen from lr_grid
    std::vector<float> lr_grid = default_learning_rates();
    LinearHeadParams linear;

    ConformalOptions conformal;  // score (default lac, docs/probes.md), RAPS's lambda and k_reg, per class
    double alpha = 0.1;        // calibrated miscoverage level (1 - alpha coverage)
    dataset::SplitProportions proportions;

    std::vector<std::string> class_order;  // output order of the classes (a label set's); empty: sorted labels
    std::string label_set;                 // recorded in the probe
    std::size_t top_k = 5;                 // for the test evaluation

    void validate() const;  // throws Error(InvalidArgument)
};

struct SeedRun {
    Probe probe;
    std::optional<Evaluation> test;  // when the table has test rows
};

struct TrainReport {
    std::vector<SeedRun> runs;  // one per seed, in seed order
    bool split_generated = false;
    std::size_t train_rows = 0, val_rows = 0, calib_rows = 0, test_rows = 0;
};

// Every row needs a label, and either every row a split or none (then dataset::make_splits with
// params.seed and params.proportions). Each class needs a training row; the calib split
// (when not empty) needs enough rows for alpha; the linear head without a fixed learning
// rate needs validation rows. Throws Error naming the table and the reason.
TrainReport train_probes(const vision::FeatureTable & table, const TrainParams & params, std::string_view table_name);

}  // namespace dermlens::probe
