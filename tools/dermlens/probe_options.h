// What the `dermlens probe` subcommands share: the options of conformal sets, the
// evaluation printers (text and JSON) and report files. Each subcommand lives in its
// own cmd_probe_<name>.cpp (docs/probes.md).
#pragma once

#include "commands.h"

#include "metrics/metrics.h"
#include "probe/candidates.h"
#include "probe/evaluate.h"
#include "vision/feature_table.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace dermlens::cli {

// Where a probe command's features come from: a feature file (--features), or a dataset
// manifest whose images `dermlens embed` has put in the embedding cache (--manifest with
// --mmproj naming the encoder). The encoder never runs here.
struct FeatureSource {
    std::string features;
    std::string manifest;
    std::string mmproj;
    std::string cache;  // empty: vision::default_cache_path()
    std::string kind = "encoder-mean";

    // Exactly one of --features / --manifest; --manifest needs --mmproj. Throws Error(InvalidArgument).
    void validate() const;
    const std::string & name() const;  // the file or manifest, for messages and reports
    const char * report_key() const;   // "features" or "manifest": what name() is, in JSON reports
    vision::FeatureTable load() const;
};

// --features, --manifest, --mmproj, --cache, --kind
void add_feature_source_options(CLI::App & app, FeatureSource & source, const std::string & features_help);

// --alpha, --min-set, --max-set
void add_set_options(CLI::App & app, probe::SetParams & set);

// --score, --per-class, --raps-lambda, --raps-k-reg: how conformal sets are calibrated.
struct ConformalChoice {
    std::optional<std::string> score;  // train: default lac; predict/eval: default the probe's
    bool per_class = false;
    std::optional<double> lambda;
    std::optional<std::size_t> k_reg;

    probe::ConformalOptions options() const;  // for training; throws Error(InvalidArgument)
    // predict/eval: recalibrates the probe on its calibration rows when the options ask for other sets.
    void apply(probe::Probe & probe, const std::string & probe_name) const;
};
// `training`: the options calibrate a new probe (else they recalibrate a loaded one).
void add_conformal_options(CLI::App & app, ConformalChoice & choice, bool training);
// Prints the warning of probe::undercalibrated_warning to stderr, when there is one.
void warn_undercalibrated(const probe::Probe & probe, double alpha);

// The evaluation as JSON; `classes` name the per-class conformal statistics.
nlohmann::ordered_json evaluation_json(const probe::Evaluation & evaluation, const std::vector<std::string> & classes);
nlohmann::ordered_json mean_std_json(const metrics::MeanStd & value);

// Metric lines "  name  value" of an evaluation, or of several as mean ± std.
// With `classes`, the conformal sets per class and per set size follow.
void print_evaluation(const probe::Evaluation & evaluation, const std::vector<std::string> & classes = {});
void print_evaluation_summary(const std::vector<probe::Evaluation> & evaluations);
nlohmann::ordered_json evaluation_summary_json(const std::vector<probe::Evaluation> & evaluations);

// Writes `value` to `path` as indented JSON; throws Error(InvalidArgument) naming the file when it cannot.
void write_report(const std::string & path, const nlohmann::ordered_json & value);

void register_probe_train(CLI::App & probe, std::vector<Command> & commands);    // cmd_probe_train.cpp
void register_probe_predict(CLI::App & probe, std::vector<Command> & commands);  // cmd_probe_predict.cpp
void register_probe_eval(CLI::App & probe, std::vector<Command> & commands);     // cmd_probe_eval.cpp

}  // namespace dermlens::cli
