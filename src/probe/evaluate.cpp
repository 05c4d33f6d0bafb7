#include "probe/evaluate.h"

#include "dermlens/error.h"
#include "metrics/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace dermlens::probe {
namespace {

Eigen::MatrixXf rows_of(const vision::FeatureView & features, const std::vector<std::size_t> & rows) {
    const std::vector<Eigen::Index> index(rows.begin(), rows.end());
    return features(index, Eigen::all);
}

std::vector<int> truth_of(const Probe & probe, const vision::FeatureTable & table, const std::vector<std::size_t> & rows,
                          std::string_view table_name) {
    std::vector<std::string> labels;
    for (const std::size_t row : rows) {
        if (table.labels[row].empty()) {
            throw Error(ErrorKind::InvalidInput, fmt::format("features file '{}': row {} ('{}') has no label to "
                                                             "evaluate against",
                                                             table_name, row, table.images[row]));
        }
        labels.push_back(table.labels[row]);
    }
    return probe.class_indices(labels, fmt::format("features file '{}'", table_name));
}

}  // namespace

std::vector<GroupSetEvaluation> evaluate_groups(const Probe & probe, const vision::FeatureTable & table,
                                                const std::vector<std::size_t> & rows,
                                                const std::vector<std::size_t> & calibration_rows,
                                                const std::vector<std::string> & groups, const SetParams & set,
                                                std::string_view table_name) {
    set.validate();
    if (!probe.calibration) {
        throw Error(ErrorKind::InvalidArgument,
                    "the probe has no conformal calibration (it was trained without calib rows): no sets per group");
    }
    if (groups.size() != table.size()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("features file '{}': {} groups for {} rows", table_name,
                                                         groups.size(), table.size()));
    }
    const Calibration & calibration = *probe.calibration;
    const double alpha = set.alpha.value_or(calibration.alpha);
    std::vector<std::string> calibration_groups;
    for (const std::size_t r : calibration_rows) {
        calibration_groups.push_back(groups[r]);
    }
    const auto quantiles =
        group_thresholds(calibration, probe.probabilities(rows_of(table.feature_rows(), calibration_rows)),
                         truth_of(probe, table, calibration_rows, table_name), calibration_groups, alpha, nullptr);
    const Eigen::MatrixXd probabilities = probe.probabilities(rows_of(table.feature_rows(), rows));
    const std::vector<int> truth = truth_of(probe, table, rows, table_name);
    CandidateParams marginal;
    marginal.mode = CandidateMode::Conformal;
    marginal.set = set;
    const auto marginal_sets = candidate_sets(probe, probabilities, marginal);
    const std::uint64_t stream = test_draw_stream(calibration.seed, set.draw_seed);  // candidate_sets' draws
    std::map<std::string, std::vector<std::size_t>> members;  // indices into rows
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (!groups[rows[i]].empty()) {
            members[groups[rows[i]]].push_back(i);
        }
    }
    std::vector<GroupSetEvaluation> out;
    for (const auto & [group, indices] : members) {
        GroupSetEvaluation evaluation;
        evaluation.group = group;
        evaluation.calibration_rows = static_cast<std::size_t>(
            std::count(calibration_groups.begin(), calibration_groups.end(), group));
        const auto found = quantiles.find(group);
        evaluation.threshold = found == quantiles.end() ? std::numeric_limits<double>::infinity() : found->second;
        const std::vector<double> thresholds(probe.classes.size(), evaluation.threshold);
        std::vector<int> group_truth;
        std::vector<std::vector<std::size_t>> group_marginal, group_conditional;
        for (const std::size_t i : indices) {
            group_truth.push_back(truth[i]);
            group_marginal.push_back(marginal_sets[i]);
            group_conditional.push_back(prediction_set(probabilities.row(static_cast<Eigen::Index>(i)), thresholds,
                                                       calibration.params, uniform_draw(stream, i), set.min_size,
                                                       set.max_size));
        }
        evaluation.marginal = metrics::set_statistics(group_truth, group_marginal);
        evaluation.conditional = metrics::set_statistics(group_truth, group_conditional);
        out.push_back(std::move(evaluation));
    }
    return out;
}

std::vector<std::size_t> evaluation_rows(const Probe & probe, const vision::FeatureTable & table,
                                         std::string_view split) {
    if (split == "all") {
        std::vector<std::size_t> rows(table.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            rows[i] = i;
        }
        return rows;
    }
    if (split != "train" && split != "val" && split != "calib" && split != "test") {
        throw Error(ErrorKind::InvalidArgument, fmt::format("split '{}' is not train, val, calib, test or all", split),
                    "split");
    }
    const bool has_splits = std::any_of(table.splits.begin(), table.splits.end(),
                                        [](const std::string & s) { return !s.empty(); });
    if (has_splits) {
        return dataset::rows_of_split(table.splits, split);
    }
    if (!probe.training.split_generated) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("split '{}': the features have no split column and the probe was trained on given "
                                "splits, so there is no such split; evaluate on all",
                                split),
                    "split");
    }
    return dataset::rows_of_split(dataset::make_splits(table.labels, table.patient_ids, probe.training.split_seed,
                                     probe.training.proportions),
                         split);
}

Evaluation evaluate(const Probe & probe, const vision::FeatureTable & table, const std::vector<std::size_t> & rows,
                    std::size_t top_k, const SetParams & set, std::string_view table_name) {
    set.validate();
    if (rows.empty()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("features file '{}': no rows to evaluate", table_name));
    }
    if (top_k == 0) {
        throw Error(ErrorKind::InvalidArgument, "top_k must be at least 1", "top_k");
    }
    const std::vector<int> truth = truth_of(probe, table, rows, table_name);
    const Eigen::MatrixXd probabilities = probe.probabilities(rows_of(table.feature_rows(), rows));
    const std::vector<int> predicted = metrics::argmax_rows(probabilities);
    Evaluation out;
    out.rows = rows.size();
    out.top_k = std::min(top_k, probe.classes.size());
    out.accuracy = metrics::accuracy(truth, predicted);
    out.macro_f1 = metrics::macro_f1(truth, predicted);
    out.balanced_accuracy = metrics::balanced_accuracy(truth, predicted);
    out.top_k_accuracy = metrics::top_k_accuracy(truth, probabilities, out.top_k);
    out.roc_auc = metrics::roc_auc_ovr_macro(truth, probabilities);
    if (probe.calibration) {
        CandidateParams params;
        params.mode = CandidateMode::Conformal;
        params.set = set;
        const auto sets = candidate_sets(probe, probabilities, params);
        const Calibration & calibration = *probe.calibration;
        ConformalEvaluation conformal;
        conformal.params = calibration.params;
        conformal.per_class = calibration.per_class;
        conformal.alpha = set.alpha.value_or(calibration.alpha);
        conformal.q_hat = calibration.q_hat(conformal.alpha);
        conformal.thresholds = calibration.thresholds(conformal.alpha, probe.classes.size());
        conformal.guarantee = set_guarantee(calibration, conformal.alpha);
        conformal.min_size = set.min_size;
        conformal.max_size = set.max_size;
        conformal.overall = metrics::set_statistics(truth, sets);
        conformal.coverage = conformal.overall.coverage;
        conformal.mean_set_size = conformal.overall.mean_size;
        conformal.per_class_sets = metrics::set_statistics_per_class(truth, sets, probe.classes.size());
        conformal.by_size = metrics::coverage_by_set_size(truth, sets);
        out.conformal = std::move(conformal);
    }
    return out;
}

}  // namespace dermlens::probe
