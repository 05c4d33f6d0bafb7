// dermlens probe train (--features F.csv|F.npy | --manifest M --mmproj P [--cache DB] [--kind K])
//   [--shots 8] [--seed 0] [--seeds 5] [--method logreg|linear] [--C X] [--lr X] [--standardize]
//   [--score lac|aps|raps|aps-plain] [--per-class] [--raps-lambda X] [--raps-k-reg K] [--alpha 0.1] [--label-set NAME] [--out P.probe] [--json] [--report FILE]
// Trains a probe per seed on k shots per class, calibrates its conformal sets on the calib
// split, scores it on the test split and saves the first seed's probe.
#include "probe_options.h"

#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "probe/train.h"
#include "vision/feature_table.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <memory>
#include <optional>

namespace dermlens::cli {
namespace {

using nlohmann::ordered_json;

struct ProbeTrainOptions {
    FeatureSource source;
    std::string out;
    std::string method = "logreg";
    std::size_t shots = 8;
    std::uint64_t seed = 0;
    std::size_t seeds = 5;
    std::optional<double> c;
    std::optional<float> learning_rate;
    bool standardise = false;
    ConformalChoice conformal;
    double alpha = 0.1;
    std::string label_set;
    std::vector<std::string> kb_overlays;
    std::size_t top_k = 5;
    bool json = false;
    std::string report;

    // The library's parameters for these options, validated; throws Error(InvalidArgument).
    probe::TrainParams params() const {
        probe::TrainParams p;
        p.method = probe::parse_probe_method(method);
        p.shots = shots;
        p.seed = seed;
        p.seeds = seeds;
        p.standardise = standardise;
        p.c = c;
        p.learning_rate = learning_rate;
        p.conformal = conformal.options();
        p.alpha = alpha;
        p.top_k = top_k;
        if (!label_set.empty()) {
            std::vector<std::filesystem::path> dirs{kb::KnowledgeBase::shipped_dir()};
            for (const auto & dir : kb_overlays) {
                if (!std::filesystem::is_directory(dir)) {
                    throw Error(ErrorKind::InvalidArgument, fmt::format("--kb '{}': no such folder", dir));
                }
                dirs.emplace_back(dir);
            }
            const kb::KnowledgeBase base = kb::KnowledgeBase::load(dirs);
            for (const auto & label : base.label_set(label_set).labels) {
                p.class_order.push_back(label.label);
            }
            p.label_set = label_set;
        } else if (!kb_overlays.empty()) {
            throw Error(ErrorKind::InvalidArgument, "--kb only matters with --label-set");
        }
        p.validate();
        return p;
    }
};

ordered_json hyperparameters_json(const probe::Probe & probe) {
    const auto & h = probe.hyperparameters;
    ordered_json out = {{"selection", probe::selection_name(h.selection)}};
    if (probe.method == probe::ProbeMethod::LogReg) {
        out["C"] = h.c;
        if (h.selection != probe::Selection::Given) {
            out["c_grid"] = h.c_grid;
            out["c_scores"] = h.c_scores;
            out["cv_folds"] = h.cv_folds;
        }
    } else {
        out["learning_rate"] = h.learning_rate;
        if (h.selection != probe::Selection::Given) {
            out["lr_grid"] = h.lr_grid;
            out["val_accuracy"] = h.val_accuracy;
        }
    }
    return out;
}

// The calibration's score, level and rows, and what RAPS chose on its held-apart rows.
ordered_json calibration_json(const probe::Probe & probe) {
    if (!probe.calibration) {
        return nullptr;
    }
    const probe::Calibration & c = *probe.calibration;
    ordered_json out = {{"score", probe::conformal_score_name(c.params)},
                        {"per_class", c.per_class},
                        {"alpha", c.alpha},
                        {"rows", c.scores.size()},
                        {"q_hat", c.q_hat(c.alpha)}};
    if (c.params.score == probe::ConformalScore::Raps) {
        out["lambda"] = c.params.lambda;
        out["k_reg"] = c.params.k_reg;
        out["held_apart_rows"] = c.tuning ? c.tuning->rows : 0;
    }
    return out;
}

std::string calibration_text(const probe::Probe & probe) {
    if (!probe.calibration) {
        return "no calib rows: no conformal sets";
    }
    const probe::Calibration & c = *probe.calibration;
    std::string raps;
    if (c.params.score == probe::ConformalScore::Raps) {
        raps = fmt::format(", lambda {:g}, k_reg {}{}", c.params.lambda, c.params.k_reg,
                           c.tuning ? fmt::format(" (chosen on {} held-apart rows)", c.tuning->rows) : "");
    }
    return fmt::format("conformal {}{} sets, alpha {:g}, {} calibration rows{}", probe::conformal_score_name(c.params),
                       c.per_class ? " class-conditional" : "", c.alpha, c.scores.size(), raps);
}

std::string hyperparameters_text(const probe::Probe & probe) {
    const auto & h = probe.hyperparameters;
    if (probe.method == probe::ProbeMethod::LogReg) {
        switch (h.selection) {
            case probe::Selection::Given:
                return fmt::format("C = {:g} (given)", h.c);
            case probe::Selection::CrossValidation:
                return fmt::format("C = {:g} ({}-fold cross-validation, mean macro ROC-AUC per C: {:.4f})", h.c,
                                   h.cv_folds, fmt::join(h.c_scores, " "));
            case probe::Selection::Validation:
                return fmt::format("C = {:g} (val split, macro ROC-AUC per C: {:.4f})", h.c, fmt::join(h.c_scores, " "));
        }
    }
    if (h.selection == probe::Selection::Given) {
        return fmt::format("lr = {:g} (given)", h.learning_rate);
    }
    return fmt::format("lr = {:g} (val accuracy per lr {}: {:.4f})", h.learning_rate, fmt::join(h.lr_grid, " "),
                       fmt::join(h.val_accuracy, " "));
}

int run_train(const ProbeTrainOptions & options) {
    const probe::TrainParams params = options.params();
    const vision::FeatureTable table = options.source.load();
    const probe::TrainReport report = probe::train_probes(table, params, options.source.name());
    const probe::Probe & first = report.runs.front().probe;
    warn_undercalibrated(first, params.alpha);
    if (!options.out.empty()) {
        probe::save_probe(first, options.out);
    }
    std::vector<probe::Evaluation> tests;
    ordered_json runs = ordered_json::array();
    for (const auto & run : report.runs) {
        runs.push_back({{"seed", run.probe.training.seed},
                        {"rows_per_class", run.probe.training.rows_per_class},
                        {"hyperparameters", hyperparameters_json(run.probe)},
                        {"calibration", calibration_json(run.probe)},
                        {"test", run.test ? evaluation_json(*run.test, run.probe.classes) : ordered_json(nullptr)}});
        if (run.test) {
            tests.push_back(*run.test);
        }
    }
    ordered_json split = {{"generated", report.split_generated},
                          {"train", report.train_rows},
                          {"val", report.val_rows},
                          {"calib", report.calib_rows},
                          {"test", report.test_rows}};
    if (report.split_generated) {
        split["seed"] = params.seed;
    }
    const ordered_json summary = {
        {options.source.report_key(), options.source.name()},
        {"method", probe::probe_method_name(params.method)},
        {"classes", first.classes},
        {"label_set", first.label_set.empty() ? ordered_json(nullptr) : ordered_json(first.label_set)},
        {"encoder", first.encoder.key()},
        {"dimension", first.dimension},
        {"shots", params.shots},
        {"split", split},
        {"runs", runs},
        {"test", tests.empty() ? ordered_json(nullptr) : evaluation_summary_json(tests)},
        {"probe_file", options.out.empty() ? ordered_json(nullptr) : ordered_json(options.out)},
    };
    if (!options.report.empty()) {
        write_report(options.report, summary);
    }
    if (options.json) {
        fmt::print("{}\n", summary.dump(2));
        return 0;
    }
    fmt::print("{} probe, {} classes, {} per class, dimension {}, seeds {}..{}\n", probe::probe_method_name(params.method),
               first.classes.size(), params.shots == 0 ? std::string("all training rows") : fmt::format("{} shots", params.shots),
               first.dimension, params.seed, params.seed + params.seeds - 1);
    fmt::print("split ({}): train {}, val {}, calib {}, test {} rows\n",
               report.split_generated ? fmt::format("made with seed {}", params.seed) : std::string("from the table"),
               report.train_rows, report.val_rows, report.calib_rows, report.test_rows);
    for (const auto & run : report.runs) {
        fmt::print("seed {}: {}; {}\n", run.probe.training.seed, hyperparameters_text(run.probe),
                   calibration_text(run.probe));
        for (std::size_t c = 0; c < first.classes.size(); ++c) {
            if (params.shots != 0 && run.probe.training.rows_per_class[c] < params.shots) {
                fmt::print(stderr, "dermlens: warning: seed {}: class '{}' has only {} training rows, fewer than {} "
                                   "shots\n",
                           run.probe.training.seed, first.classes[c], run.probe.training.rows_per_class[c],
                           params.shots);
            }
        }
    }
    if (tests.empty()) {
        fmt::print("no test rows: nothing evaluated\n");
    } else {
        fmt::print("test split ({} rows), mean ± std over {} seed{}:\n", tests.front().rows, tests.size(),
                   tests.size() == 1 ? "" : "s");
        print_evaluation_summary(tests);
    }
    if (!options.out.empty()) {
        fmt::print("wrote {} (the probe of seed {})\n", options.out, first.training.seed);
    }
    return 0;
}

}  // namespace

void register_probe_train(CLI::App & probe, std::vector<Command> & commands) {
    auto options = std::make_shared<ProbeTrainOptions>();
    auto * app = probe.add_subcommand("train", "Train a few-shot probe per seed, calibrate its conformal sets on the "
                                               "calib split and score it on the test split");
    add_feature_source_options(*app, options->source, "Feature file: CSV (image,label,split,patient_id,f0,f1,...) or .npy with a <file>.csv sidecar");
    app->add_option("--shots", options->shots, "Training images per class (k); 0 = every training row")
        ->capture_default_str();
    app->add_option("--seed", options->seed, "Seed of the split (when the table has none) and of the first repetition")
        ->capture_default_str();
    app->add_option("--seeds", options->seeds, "Repetitions with seeds seed, seed+1, ...: results as mean ± std")
        ->capture_default_str();
    app->add_option("--method", options->method,
                    "logreg: multinomial L2 logistic regression, C by 5-fold CV on macro ROC-AUC (paper 001); "
                    "linear: softmax layer, AdamW, 100 epochs, lr on the val split (paper 000)")
        ->capture_default_str();
    app->add_option("--C", options->c, "logreg: use this C instead of choosing from 1e-5 ... 1e1");
    app->add_option("--lr", options->learning_rate, "linear: use this learning rate instead of choosing from 3e-5, "
                                                    "3e-4, 3e-3");
    app->add_flag("--standardize", options->standardise, "Standardise each feature with the training rows' mean and "
                                                         "standard deviation (stored in the probe)");
    add_conformal_options(*app, options->conformal, true);
    app->add_option("--alpha", options->alpha, "Conformal miscoverage calibrated on the calib split")
        ->capture_default_str();
    app->add_option("--label-set", options->label_set,
                    "Knowledge-base label set of the labels: orders the classes and is recorded in the probe");
    app->add_option("--kb", options->kb_overlays, "Knowledge-base folder extending the shipped data/kb/ (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app->add_option("--top-k", options->top_k, "k of the top-k accuracy")->capture_default_str();
    app->add_option("--out", options->out, "Write the first seed's probe to this file (dermlens.probe/1 JSON)");
    app->add_flag("--json", options->json, "Print the training report as JSON");
    app->add_option("--report", options->report, "Also write the training report (JSON) to this file");
    commands.push_back({app, [options] { return run_train(*options); }});
}

}  // namespace dermlens::cli
