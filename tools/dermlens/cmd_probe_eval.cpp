// dermlens probe eval --probe P (--features F | --manifest M --mmproj P [--cache DB] [--kind K])
//   [--split test|train|val|calib|all] [--top-k 5] [--alpha A] [--score S] [--per-class] [--group-column COL]
//   [--min-set 1] [--max-set 0] [--label-set NAME] [--json] [--report FILE]
// Accuracy, macro-F1, balanced accuracy, top-k accuracy, macro ROC-AUC and the conformal
// sets' coverage and size — overall, per class and per set size — on labelled features.
#include "probe_options.h"

#include "dermlens/error.h"
#include "dataset/manifest.h"
#include "probe/probe.h"
#include "vision/feature_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>

namespace dermlens::cli {
namespace {

using nlohmann::ordered_json;

// Each feature row's group: the manifest's `column` ("" for a blank, "unknown", "nan" or "-1").
std::vector<std::string> groups_of(const std::string & manifest_path, const std::string & column,
                                   const vision::FeatureTable & table) {
    const dataset::Manifest manifest = dataset::read_manifest(manifest_path);
    const auto at = std::find(manifest.metadata_columns.begin(), manifest.metadata_columns.end(), column);
    if (at == manifest.metadata_columns.end()) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("--group-column '{}': manifest '{}' has no such column",
                                                            column, manifest_path));
    }
    if (manifest.size() != table.size()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("manifest '{}': {} rows, but {} feature rows", manifest_path,
                                                         manifest.size(), table.size()));
    }
    std::vector<std::string> groups;
    for (const auto & row : manifest.rows) {
        std::string value = row.metadata[static_cast<std::size_t>(at - manifest.metadata_columns.begin())];
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t") + 1);
        std::string lower = value;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        groups.push_back(lower == "unknown" || lower == "nan" || lower == "-1" ? "" : value);
    }
    return groups;
}

ordered_json group_json(const probe::GroupSetEvaluation & g) {
    const auto stats = [](const metrics::SetStatistics & s) {
        return ordered_json{{"rows", s.rows},
                            {"coverage", s.coverage},
                            {"mean_set_size", s.mean_size},
                            {"median_set_size", s.median_size},
                            {"empty_share", s.empty_share},
                            {"singleton_share", s.singleton_share}};
    };
    return {{"group", g.group},
            {"calibration_rows", g.calibration_rows},
            {"threshold", std::isinf(g.threshold) ? ordered_json(nullptr) : ordered_json(g.threshold)},
            {"marginal", stats(g.marginal)},
            {"group_conditional", stats(g.conditional)}};
}

struct ProbeEvalOptions {
    std::string probe;
    FeatureSource source;
    std::string split = "test";
    std::size_t top_k = 5;
    probe::SetParams set;
    ConformalChoice conformal;
    std::string group_column;
    std::string label_set;
    bool json = false;
    std::string report;

    void validate() const {
        if (!group_column.empty() && source.manifest.empty()) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("--group-column '{}' reads the manifest's column: give --manifest", group_column));
        }
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
    ordered_json out = {{"probe", options.probe},
                        {options.source.report_key(), options.source.name()},
                        {"split", options.split},
                        {"method", probe::probe_method_name(probe.method)},
                        {"classes", probe.classes},
                        {"evaluation", evaluation_json(evaluation, probe.classes)}};
    std::vector<probe::GroupSetEvaluation> per_group;
    if (!options.group_column.empty()) {
        per_group = probe::evaluate_groups(probe, table, rows, probe::evaluation_rows(probe, table, "calib"),
                                           groups_of(options.source.manifest, options.group_column, table), options.set,
                                           options.source.name());
        ordered_json groups = ordered_json::array();
        for (const auto & g : per_group) {
            groups.push_back(group_json(g));
        }
        out["evaluation"]["conformal"]["per_group"] = {{"column", options.group_column}, {"groups", groups}};
    }
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
    if (!per_group.empty()) {
        fmt::print("  per {} (coverage % / mean size):\n", options.group_column);
        fmt::print("    {:<12} {:>6} {:>11} {:>18} {:>18}\n", "group", "rows", "calib rows", "marginal",
                   "group-conditional");
        for (const auto & g : per_group) {
            fmt::print("    {:<12} {:>6} {:>11} {:>11.2f} / {:<4.2f} {:>11.2f} / {:<4.2f}\n", g.group, g.marginal.rows,
                       g.calibration_rows, 100 * g.marginal.coverage, g.marginal.mean_size, 100 * g.conditional.coverage,
                       g.conditional.mean_size);
        }
    }
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
    app->add_option("--group-column", options->group_column,
                    "With --manifest: also group-conditional sets per value of this manifest column (e.g. "
                    "fitzpatrick): q_hat from the calib rows of each group");
    app->add_option("--label-set", options->label_set, "Refuse a probe of another knowledge-base label set");
    app->add_flag("--json", options->json, "Print JSON (docs/probes.md)");
    app->add_option("--report", options->report, "Also write the evaluation (JSON) to this file");
    commands.push_back({app, [options] { return run_eval(*options); }});
}

}  // namespace dermlens::cli
