#include "probe/train.h"

#include "dermlens/error.h"
#include "metrics/metrics.h"
#include "probe/sampling.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace dermlens::probe {
namespace {

// The labelled table in class indices, with its split per row.
struct Prepared {
    std::vector<std::string> classes;
    std::vector<int> labels;
    std::vector<std::string> splits;
    bool split_generated = false;
};

Prepared prepare(const vision::FeatureTable & table, const TrainParams & params, std::string_view name) {
    table.validate();
    if (table.size() == 0) {
        throw Error(ErrorKind::InvalidInput, fmt::format("features file '{}': no rows", name));
    }
    std::set<std::string> present;
    for (std::size_t row = 0; row < table.size(); ++row) {
        if (table.labels[row].empty()) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("features file '{}': row {} ('{}') has no label; training needs one on every row",
                                    name, row, table.images[row]));
        }
        present.insert(table.labels[row]);
    }
    Prepared out;
    if (params.class_order.empty()) {
        out.classes.assign(present.begin(), present.end());
    } else {
        for (const auto & label : present) {
            if (std::find(params.class_order.begin(), params.class_order.end(), label) == params.class_order.end()) {
                throw Error(ErrorKind::InvalidInput,
                            fmt::format("features file '{}': label '{}' is not in label set '{}' ({})", name, label,
                                        params.label_set, fmt::join(params.class_order, ", ")));
            }
        }
        std::copy_if(params.class_order.begin(), params.class_order.end(), std::back_inserter(out.classes),
                     [&](const std::string & c) { return present.contains(c); });
    }
    if (out.classes.size() < 2) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("features file '{}': {} class, a probe needs at least 2", name, out.classes.size()));
    }
    std::map<std::string, int> index;
    for (std::size_t c = 0; c < out.classes.size(); ++c) {
        index[out.classes[c]] = static_cast<int>(c);
    }
    for (const auto & label : table.labels) {
        out.labels.push_back(index.at(label));
    }
    const auto with_split = static_cast<std::size_t>(
        std::count_if(table.splits.begin(), table.splits.end(), [](const std::string & s) { return !s.empty(); }));
    if (with_split == 0) {
        out.splits = dataset::make_splits(table.labels, table.patient_ids, params.seed, params.proportions);
        out.split_generated = true;
    } else if (with_split == table.size()) {
        out.splits = table.splits;
    } else {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("features file '{}': {} of {} rows have a split; give every row one, or none (then "
                                "the probe makes a split)",
                                name, with_split, table.size()));
    }
    std::vector<std::size_t> train_count(out.classes.size(), 0);
    for (std::size_t row = 0; row < table.size(); ++row) {
        train_count[static_cast<std::size_t>(out.labels[row])] += out.splits[row] == "train" ? 1 : 0;
    }
    for (std::size_t c = 0; c < out.classes.size(); ++c) {
        if (train_count[c] == 0) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("features file '{}': class '{}' has no row in the train split", name,
                                    out.classes[c]));
        }
    }
    return out;
}

Eigen::MatrixXf select(const vision::FeatureView & features, const std::vector<std::size_t> & rows) {
    const std::vector<Eigen::Index> index(rows.begin(), rows.end());
    return features(index, Eigen::all);
}

std::vector<int> select(const std::vector<int> & labels, const std::vector<std::size_t> & rows) {
    std::vector<int> out;
    out.reserve(rows.size());
    for (const std::size_t row : rows) {
        out.push_back(labels[row]);
    }
    return out;
}

Normalisation fit_normalisation(const Eigen::MatrixXf & x, bool standardise) {
    Normalisation n;
    n.standardise = standardise;
    if (standardise) {
        const Eigen::MatrixXd xd = x.cast<double>();
        n.mean = xd.colwise().mean().transpose();
        n.scale = ((xd.rowwise() - n.mean.transpose()).array().square().colwise().mean().sqrt()).transpose();
        n.scale = n.scale.unaryExpr([](double s) { return s > 0.0 ? s : 1.0; });
    }
    return n;
}

Eigen::MatrixXd normalised(const Eigen::MatrixXf & x, const Normalisation & n) {
    Eigen::MatrixXd out = x.cast<double>();
    if (n.standardise) {
        out.rowwise() -= n.mean.transpose();
        out.array().rowwise() /= n.scale.transpose().array();
    }
    return out;
}

void fit_logreg_probe(Probe & probe, const Eigen::MatrixXd & x, const std::vector<int> & y, const Eigen::MatrixXd & val_x,
                      const std::vector<int> & val_y, const TrainParams & params, std::string_view name) {
    Hyperparameters & h = probe.hyperparameters;
    const std::size_t k = probe.classes.size();
    if (params.c) {
        h.selection = Selection::Given;
        h.c = *params.c;
    } else {
        const std::size_t smallest = *std::min_element(probe.training.rows_per_class.begin(),
                                                       probe.training.rows_per_class.end());
        const std::size_t folds = std::min(params.cv_folds, smallest);
        h.c_grid = params.c_grid;
        std::sort(h.c_grid.begin(), h.c_grid.end());
        if (folds >= 2) {
            const CrossValidation cv = cross_validate_c(x, y, k, h.c_grid, folds, params.solver);
            h.selection = Selection::CrossValidation;
            h.c = cv.best_c;
            h.c_scores = cv.mean_scores;
            h.cv_folds = folds;
        } else {
            // One row per class cannot be folded: choose C on the validation split.
            if (val_y.empty()) {
                throw Error(ErrorKind::InvalidInput,
                            fmt::format("c: features file '{}' has a class with a single training row, too few to "
                                        "cross-validate C, and no val rows to choose it on; give C",
                                        name),
                            "c");
            }
            h.selection = Selection::Validation;
            LinearModel previous;
            std::size_t best = 0;
            for (std::size_t g = 0; g < h.c_grid.size(); ++g) {
                const LogRegFit fit = fit_logreg(x, y, k, h.c_grid[g], params.solver, g == 0 ? nullptr : &previous);
                previous = fit.model;
                h.c_scores.push_back(metrics::roc_auc_ovr_macro(val_y, fit.model.probabilities(val_x)));
                if (g > 0 && h.c_scores[g] > h.c_scores[best] + 1e-12) {
                    best = g;
                }
            }
            h.c = h.c_grid[best];
        }
    }
    const LogRegFit fit = fit_logreg(x, y, k, h.c, params.solver);
    probe.weights = fit.model.weights;
    probe.bias = fit.model.bias;
}

void fit_linear_probe(Probe & probe, const Eigen::MatrixXd & x, const std::vector<int> & y,
                      const Eigen::MatrixXd & val_x, const std::vector<int> & val_y, const TrainParams & params,
                      std::string_view name) {
    Hyperparameters & h = probe.hyperparameters;
    h.epochs = params.linear.epochs;
    h.batch_size = params.linear.batch_size;
    h.weight_decay = params.linear.weight_decay;
    const Eigen::MatrixXf xf = x.cast<float>();
    LinearHead head;
    if (params.learning_rate) {
        h.selection = Selection::Given;
        h.learning_rate = *params.learning_rate;
        head = train_linear_head(xf, y, probe.classes.size(), h.learning_rate, params.linear, probe.training.seed);
    } else {
        if (val_y.empty()) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("learning_rate: features file '{}' has no val rows to choose it on; give one",
                                    name),
                        "learning_rate");
        }
        LearningRateChoice choice = choose_learning_rate(xf, y, val_x.cast<float>(), val_y, probe.classes.size(),
                                                         params.lr_grid, params.linear, probe.training.seed);
        h.selection = Selection::Validation;
        h.learning_rate = choice.best;
        h.lr_grid = choice.grid;
        h.val_accuracy = choice.validation_accuracy;
        head = std::move(choice.head);
    }
    probe.weights = head.weights.cast<double>();
    probe.bias = head.bias.cast<double>();
}

}  // namespace

void TrainParams::validate() const {
    if (seeds == 0) {
        throw Error(ErrorKind::InvalidArgument, "seeds must be at least 1", "seeds");
    }
    if (c && (!(*c > 0.0) || !std::isfinite(*c))) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("c {} must be positive", *c), "c");
    }
    if (std::any_of(c_grid.begin(), c_grid.end(), [](double v) { return !(v > 0.0) || !std::isfinite(v); }) ||
        c_grid.empty()) {
        throw Error(ErrorKind::InvalidArgument, "the C grid needs positive values");
    }
    if (cv_folds < 2) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("cross-validation folds {} must be at least 2", cv_folds));
    }
    if (learning_rate && (!(*learning_rate > 0.0f) || !std::isfinite(*learning_rate))) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("learning_rate {} must be positive", *learning_rate),
                    "learning_rate");
    }
    if (lr_grid.empty() ||
        std::any_of(lr_grid.begin(), lr_grid.end(), [](float v) { return !(v > 0.0f) || !std::isfinite(v); })) {
        throw Error(ErrorKind::InvalidArgument, "the learning-rate grid needs positive values");
    }
    linear.validate();
    conformal.validate();
    if (!(alpha > 0.0 && alpha < 1.0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("alpha {} must be in (0, 1)", alpha), "alpha");
    }
    proportions.validate();
    if (top_k == 0) {
        throw Error(ErrorKind::InvalidArgument, "top_k must be at least 1", "top_k");
    }
}

TrainReport train_probes(const vision::FeatureTable & table, const TrainParams & params, std::string_view table_name) {
    params.validate();
    const Prepared data = prepare(table, params, table_name);
    const auto train_rows = dataset::rows_of_split(data.splits, "train");
    const auto val_rows = dataset::rows_of_split(data.splits, "val");
    const auto calib_rows = dataset::rows_of_split(data.splits, "calib");
    const auto test_rows = dataset::rows_of_split(data.splits, "test");
    TrainReport report;
    report.split_generated = data.split_generated;
    report.train_rows = train_rows.size();
    report.val_rows = val_rows.size();
    report.calib_rows = calib_rows.size();
    report.test_rows = test_rows.size();
    for (std::size_t repetition = 0; repetition < params.seeds; ++repetition) {
        Probe probe;
        probe.classes = data.classes;
        probe.label_set = params.label_set;
        probe.encoder = table.encoder;
        probe.dimension = table.dimension();
        probe.method = params.method;
        probe.training.shots = params.shots;
        probe.training.seed = params.seed + repetition;
        probe.training.split_generated = data.split_generated;
        if (data.split_generated) {
            probe.training.split_seed = params.seed;
            probe.training.proportions = params.proportions;
        }
        const auto sample = sample_shots(data.labels, train_rows, data.classes.size(), params.shots,
                                         probe.training.seed);
        const std::vector<int> y = select(data.labels, sample);
        probe.training.rows_per_class.assign(data.classes.size(), 0);
        for (const int c : y) {
            ++probe.training.rows_per_class[static_cast<std::size_t>(c)];
        }
        const Eigen::MatrixXf raw = select(table.feature_rows(), sample);
        probe.normalisation = fit_normalisation(raw, params.standardise);
        const Eigen::MatrixXd x = normalised(raw, probe.normalisation);
        const Eigen::MatrixXd val_x = normalised(select(table.feature_rows(), val_rows), probe.normalisation);
        const std::vector<int> val_y = select(data.labels, val_rows);
        if (params.method == ProbeMethod::LogReg) {
            fit_logreg_probe(probe, x, y, val_x, val_y, params, table_name);
        } else {
            fit_linear_probe(probe, x, y, val_x, val_y, params, table_name);
        }
        if (!calib_rows.empty()) {
            try {
                // The seed of the randomised scores' draws and of RAPS's held-apart rows: the probe's.
                probe.calibration = calibrate(probe.probabilities(select(table.feature_rows(), calib_rows)),
                                              select(data.labels, calib_rows), params.conformal, params.alpha,
                                              probe.training.seed);
            } catch (const Error & e) {
                throw Error(e.kind(), fmt::format("features file '{}', calib split: {}", table_name, e.what()));
            }
        }
        probe.validate();
        SeedRun run{std::move(probe), std::nullopt};
        if (!test_rows.empty()) {
            run.test = evaluate(run.probe, table, test_rows, params.top_k, SetParams{}, table_name);
        }
        report.runs.push_back(std::move(run));
    }
    return report;
}

}  // namespace dermlens::probe
