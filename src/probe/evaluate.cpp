#include "probe/evaluate.h"

#include "dermlens/error.h"
#include "metrics/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dermlens::probe {
namespace {

Eigen::MatrixXf rows_of(const Eigen::MatrixXf & features, const std::vector<std::size_t> & rows) {
    const std::vector<Eigen::Index> index(rows.begin(), rows.end());
    return features(index, Eigen::all);
}

const Calibration & calibration_of(const Probe & probe) {
    if (!probe.calibration) {
        throw Error(ErrorKind::InvalidArgument,
                    "the probe has no conformal calibration (it was trained without calib rows): use top-k candidates");
    }
    return *probe.calibration;
}

}  // namespace

void SetParams::validate() const {
    if (alpha && !(*alpha > 0.0 && *alpha < 1.0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("--alpha {} must be in (0, 1)", *alpha));
    }
    if (max_size != 0 && max_size < min_size) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("the largest set size {} is below the smallest {}", max_size, min_size));
    }
}

const char * candidate_mode_name(CandidateMode mode) noexcept {
    switch (mode) {
        case CandidateMode::TopK:      return "topk";
        case CandidateMode::Conformal: return "conformal";
    }
    return "unknown";
}

CandidateMode parse_candidate_mode(const std::string & text) {
    for (const auto mode : {CandidateMode::TopK, CandidateMode::Conformal}) {
        if (text == candidate_mode_name(mode)) {
            return mode;
        }
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("candidates '{}' is not topk or conformal", text));
}

void CandidateParams::validate() const {
    if (top_k == 0) {
        throw Error(ErrorKind::InvalidArgument, "--top-k must be at least 1");
    }
    set.validate();
}

std::vector<std::vector<std::size_t>> candidate_sets(const Probe & probe, const Eigen::MatrixXd & probabilities,
                                                     const CandidateParams & params) {
    params.validate();
    std::vector<std::vector<std::size_t>> sets;
    sets.reserve(static_cast<std::size_t>(probabilities.rows()));
    if (params.mode == CandidateMode::TopK) {
        for (Eigen::Index i = 0; i < probabilities.rows(); ++i) {
            auto ranked = metrics::ranked_classes(probabilities.row(i));
            ranked.resize(std::min(ranked.size(), params.top_k));
            sets.push_back(std::move(ranked));
        }
        return sets;
    }
    const Calibration & calibration = calibration_of(probe);
    const double q_hat = calibration.q_hat(params.set.alpha.value_or(calibration.alpha));
    for (Eigen::Index i = 0; i < probabilities.rows(); ++i) {
        sets.push_back(prediction_set(probabilities.row(i), q_hat, calibration.params, params.set.min_size,
                                      params.set.max_size));
    }
    return sets;
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
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("--split '{}' is not train, val, calib, test or all", split));
    }
    const bool has_splits = std::any_of(table.splits.begin(), table.splits.end(),
                                        [](const std::string & s) { return !s.empty(); });
    if (has_splits) {
        return dataset::rows_of_split(table.splits, split);
    }
    if (!probe.training.split_generated) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("the features have no split column and the probe was trained on given splits, so "
                                "there is no '{}' split: use --split all",
                                split));
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
        throw Error(ErrorKind::InvalidArgument, "--top-k must be at least 1");
    }
    std::vector<std::string> labels;
    for (const std::size_t row : rows) {
        if (table.labels[row].empty()) {
            throw Error(ErrorKind::InvalidInput, fmt::format("features file '{}': row {} ('{}') has no label to "
                                                             "evaluate against",
                                                             table_name, row, table.images[row]));
        }
        labels.push_back(table.labels[row]);
    }
    const std::vector<int> truth = probe.class_indices(labels, fmt::format("features file '{}'", table_name));
    const Eigen::MatrixXd probabilities = probe.probabilities(rows_of(table.features, rows));
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
        ConformalEvaluation conformal;
        conformal.params = probe.calibration->params;
        conformal.alpha = set.alpha.value_or(probe.calibration->alpha);
        conformal.q_hat = probe.calibration->q_hat(conformal.alpha);
        conformal.min_size = set.min_size;
        conformal.max_size = set.max_size;
        conformal.coverage = metrics::set_coverage(truth, sets);
        conformal.mean_set_size = metrics::mean_set_size(sets);
        out.conformal = conformal;
    }
    return out;
}

}  // namespace dermlens::probe
