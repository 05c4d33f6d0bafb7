// From recorded samples to metrics: the samples of one configuration (config without its
// seed) are scored per seed — accuracy, macro-F1, balanced accuracy, macro precision and
// recall, top-k, one-vs-rest ROC-AUC, expected calibration error, abstention rate, conformal
// coverage and set size, as far as the records carry what each needs — then reported as the
// mean ± sample std over seeds with a bootstrap 95 % interval over the pooled samples.
//
// A record gives "truth" (class index) and "predicted" (class index, or null when the model
// abstained or its answer named no class); optional "probabilities" (one per class) and "set"
// (candidate class indices). An unanswered sample counts as wrong and, for macro metrics, as
// one more class ("no answer"), as scikit-learn would count a label -1.
#pragma once

#include "metrics/metrics.h"
#include "eval/run_store.h"

#include <Eigen/Core>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::eval {

struct MetricValue {
    std::string name;  // accuracy, macro_f1, … (docs/eval.md)
    double mean = 0;
    double std = 0;                   // over seeds; 0 for one seed
    std::optional<metrics::Interval> interval;  // bootstrap 95 % over the pooled samples, for the cheap metrics
};

struct GroupSummary {
    nlohmann::ordered_json config;  // the configuration, without its seed
    std::size_t classes = 0;
    std::size_t seeds = 0;
    std::size_t samples = 0;  // scored (every seed)
    std::size_t failed = 0;   // recorded with an error: not scored
    std::vector<MetricValue> metrics;
    Eigen::MatrixXi confusion;  // pooled over seeds: truth rows x predicted columns, "no answer" last
    std::vector<metrics::CalibrationBin> reliability;  // pooled, when the records carry probabilities

    const MetricValue * metric(const std::string & name) const;  // nullptr when not computed
};

struct SummaryOptions {
    std::size_t top_k = 5;  // top-k accuracy when there are more classes than k
    std::size_t bootstrap_resamples = 1000;
    std::uint64_t seed = 0;  // of the bootstrap
};

// Groups `samples` by their record's "config" without "seed", in order of first appearance;
// `classes_of` gives the number of classes of a configuration. Throws Error(InvalidInput) for
// a record without truth or with a class index out of range.
std::vector<GroupSummary> summarise_groups(const std::vector<StoredSample> & samples,
                                           const std::function<std::size_t(const nlohmann::ordered_json &)> & classes_of,
                                           const SummaryOptions & options);

// The distinct images the samples are of (a run with --limit or a shard covers some of the test split).
std::size_t evaluated_images(const std::vector<StoredSample> & samples);

// The group whose configuration has every key of `subset` with that value; nullptr when none.
const GroupSummary * find_group(const std::vector<GroupSummary> & groups, const nlohmann::ordered_json & subset);

// "57.22 (± 0.88)": the mean and std of a metric in percent, as the papers' tables print them;
// "-" when the metric was not computed.
std::string percent_cell(const GroupSummary * group, const std::string & metric);

struct ReportTable {
    std::string title;  // "Table 4: …"
    std::string caption;
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
};

struct ReportPlot {
    std::string file;  // within the run folder, e.g. "confusion_combined.png"
    std::string caption;
    cv::Mat3b image;   // BGR
};

struct ProtocolReport {
    std::vector<GroupSummary> groups;
    std::vector<ReportTable> tables;
    std::vector<ReportPlot> plots;
};

// Every group's metrics as JSON (summary.json's "groups").
nlohmann::ordered_json to_json(const std::vector<GroupSummary> & groups);

}  // namespace dermlens::eval
