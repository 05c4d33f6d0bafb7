// dermlens probe eval --probe P (--features F | --manifest M --mmproj P [--cache DB] [--kind K])
//   [--split test|train|val|calib|all] [--top-k 5] [--alpha A] [--score S] [--per-class]
//   [--min-set 1] [--max-set 0] [--label-set NAME] [--json] [--report FILE]
// Accuracy, macro-F1, balanced accuracy, top-k accuracy, macro ROC-AUC and the conformal
// sets' coverage and size — overall, per class and per set size — on labelled features.
#include "probe_options.h"

#include "probe/probe.h"
#include "vision/feature_table.h"

#include <fmt/format.h>

#include <memory>

namespace dermlens::cli {
namespace {

using nlohmann::ordered_json;

struct ProbeEvalOptions {
    std::string probe;
    FeatureSource source;
    std::string split = "test";
    std::size_t top_k = 5;
    probe::SetParams set;
    ConformalChoice conformal;
    std::string label_set;
    bool json = false;
    std::string report;

    void validate() const {
        probe::CandidateParams params;
        params.top_k = top_k;
        params.set = set;
        params.validate();
    }
};

int run_eval(const ProbeEvalOptions & options) {
    options.validate();
    probe::Probe probe = probe::load_probe(options.probe);
    options.conformal.apply(probe, options.probe);
    if (probe.calibration) {
        warn_undercalibrated(probe, options.set.alpha.value_or(probe.calibration->alpha));
    }
    if (!options.label_set.empty()) {
        probe::check_label_set(probe, options.probe, options.label_set);
    }
    const vision::FeatureTable table = options.source.load();
    probe::check_compatible(probe, options.probe, table, options.source.name());
    const auto rows = probe::evaluation_rows(probe, table, options.split);
    const probe::Evaluation evaluation =
        probe::evaluate(probe, table, rows, options.top_k, options.set, options.source.name());
    const ordered_json out = {{"probe", options.probe},
                              {options.source.report_key(), options.source.name()},
                              {"split", options.split},
                              {"method", probe::probe_method_name(probe.method)},
                              {"classes", probe.classes},
                              {"evaluation", evaluation_json(evaluation, probe.classes)}};
    if (!options.report.empty()) {
        write_report(options.report, out);
    }
    if (options.json) {
        fmt::print("{}\n", out.dump(2));
        return 0;
    }
    fmt::print("{} probe '{}' on '{}', split {}: {} rows, {} classes\n", probe::probe_method_name(probe.method),
               options.probe, options.source.name(), options.split, evaluation.rows, probe.classes.size());
    print_evaluation(evaluation, probe.classes);
    return 0;
}

}  // namespace

void register_probe_eval(CLI::App & probe, std::vector<Command> & commands) {
    auto options = std::make_shared<ProbeEvalOptions>();
    auto * app = probe.add_subcommand("eval", "Score a probe on labelled features: accuracy, macro-F1, balanced "
                                              "accuracy, top-k, ROC-AUC, conformal coverage and set size");
    app->add_option("--probe", options->probe, "Probe file from `dermlens probe train --out`")->required();
    add_feature_source_options(*app, options->source, "Labelled feature file (CSV or .npy + sidecar)");
    app->add_option("--split", options->split,
                    "Rows to score: test, train, val, calib (from the split column, or the probe's own split "
                    "recomputed when the file has none) or all")
        ->capture_default_str();
    app->add_option("--top-k", options->top_k, "k of the top-k accuracy")->capture_default_str();
    add_set_options(*app, options->set);
    add_conformal_options(*app, options->conformal, false);
    app->add_option("--label-set", options->label_set, "Refuse a probe of another knowledge-base label set");
    app->add_flag("--json", options->json, "Print JSON (docs/probes.md)");
    app->add_option("--report", options->report, "Also write the evaluation (JSON) to this file");
    commands.push_back({app, [options] { return run_eval(*options); }});
}

}  // namespace dermlens::cli
