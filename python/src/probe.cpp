// dermlens.probe: few-shot probes on NumPy feature arrays (docs/probes.md) — train, predict,
// conformal candidate sets — the library's own training (probe::train_probes) with the
// features read in place: a float32 array of any strides is viewed, never copied whole.
#include "bindings.h"

#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "probe/candidates.h"
#include "probe/train.h"
#include "vision/feature_table.h"

#include <pybind11/eigen.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::python {
namespace {

using FeatureArray = py::array_t<float>;  // float32 arrives as it is; other dtypes are converted first

// The rows of a 2-D float32 array where they lie (strides in floats); `array` must outlive them.
vision::BorrowedRows rows_of(const FeatureArray & array, const std::string & field) {
    if (array.ndim() != 2) {
        throw Error(ErrorKind::InvalidArgument,
                    field + ": expected a 2-D array (rows x features), got " + std::to_string(array.ndim()) + " dimensions",
                    field);
    }
    const auto element = static_cast<py::ssize_t>(sizeof(float));
    if (array.strides(0) % element != 0 || array.strides(1) % element != 0 || array.strides(0) < 0 ||
        array.strides(1) < 0) {
        throw Error(ErrorKind::InvalidArgument, field + ": the array's strides are not positive float32 steps; pass "
                                                        "numpy.ascontiguousarray(" + field + ")",
                    field);
    }
    return {array.data(), array.shape(0), array.shape(1), array.strides(0) / element, array.strides(1) / element};
}

std::vector<std::string> column_or_blank(const std::optional<std::vector<std::string>> & column, std::size_t rows,
                                         const std::string & field) {
    if (!column) {
        return std::vector<std::string>(rows);
    }
    if (column->size() != rows) {
        throw Error(ErrorKind::InvalidArgument,
                    field + ": " + std::to_string(column->size()) + " values for " + std::to_string(rows) + " rows",
                    field);
    }
    return *column;
}

vision::FeatureTable borrowed_table(const FeatureArray & features, const std::vector<std::string> & labels,
                                    const std::optional<std::vector<std::string>> & splits,
                                    const std::optional<std::vector<std::string>> & patient_ids,
                                    const std::optional<std::vector<std::string>> & images) {
    vision::FeatureTable table;
    table.borrowed = rows_of(features, "features");
    const auto rows = static_cast<std::size_t>(features.shape(0));
    table.labels = column_or_blank(labels, rows, "labels");
    table.splits = column_or_blank(splits, rows, "splits");
    table.patient_ids = column_or_blank(patient_ids, rows, "patient_ids");
    if (images) {
        table.images = column_or_blank(images, rows, "images");
    } else {
        for (std::size_t row = 0; row < rows; ++row) {
            table.images.push_back("row " + std::to_string(row));
        }
    }
    return table;
}

probe::Probe train(const FeatureArray & features, const std::vector<std::string> & labels,
                   const std::optional<std::vector<std::string>> & splits, const std::string & method,
                   std::size_t shots, std::uint64_t seed, bool standardize, std::optional<double> c,
                   std::optional<float> learning_rate, const std::string & score, bool per_class, double alpha,
                   const std::optional<std::string> & label_set,
                   const std::optional<std::vector<std::string>> & patient_ids,
                   const std::optional<std::vector<std::string>> & images) {
    probe::TrainParams params;
    params.method = probe::parse_probe_method(method);
    params.shots = shots;
    params.seed = seed;
    params.seeds = 1;
    params.standardise = standardize;
    params.c = c;
    params.learning_rate = learning_rate;
    params.conformal.params = probe::parse_conformal_score(score);
    params.conformal.per_class = per_class;
    params.alpha = alpha;
    if (label_set) {
        const kb::KnowledgeBase base = kb::KnowledgeBase::load({kb::KnowledgeBase::shipped_dir()});
        for (const auto & label : base.label_set(*label_set).labels) {
            params.class_order.push_back(label.label);
        }
        params.label_set = *label_set;
    }
    params.validate();
    const vision::FeatureTable table = borrowed_table(features, labels, splits, patient_ids, images);
    const py::gil_scoped_release release;
    return std::move(probe::train_probes(table, params, "features").runs.front().probe);
}

Eigen::MatrixXd probabilities(const probe::Probe & probe, const FeatureArray & features) {
    const vision::FeatureView view = rows_of(features, "features").view();
    const py::gil_scoped_release release;
    return probe.probabilities(view);
}

std::vector<std::vector<std::string>> named(const probe::Probe & probe,
                                            const std::vector<std::vector<std::size_t>> & sets) {
    std::vector<std::vector<std::string>> out;
    for (const auto & set : sets) {
        std::vector<std::string> names;
        for (const std::size_t c : set) {
            names.push_back(probe.classes[c]);
        }
        out.push_back(std::move(names));
    }
    return out;
}

std::vector<std::vector<std::string>> conformal_sets(const probe::Probe & loaded, const FeatureArray & features,
                                                     std::optional<double> alpha, const std::optional<std::string> & score,
                                                     bool per_class, std::size_t min_size, std::size_t max_size) {
    probe::Probe probe = loaded;
    if (!probe.calibration) {
        throw Error(ErrorKind::InvalidArgument,
                    "the probe has no conformal calibration (it was trained without calib rows): use top_k()");
    }
    if (score || per_class) {
        probe::recalibrate_probe(probe, "probe", score, per_class);
    }
    probe::CandidateParams params;
    params.mode = probe::CandidateMode::Conformal;
    params.set.alpha = alpha;
    params.set.min_size = min_size;
    params.set.max_size = max_size;
    params.validate();
    return named(probe, probe::candidate_sets(probe, probabilities(probe, features), params));
}

std::vector<std::vector<std::string>> top_k(const probe::Probe & probe, const FeatureArray & features, std::size_t k) {
    probe::CandidateParams params;
    params.top_k = k;
    params.validate();
    return named(probe, probe::candidate_sets(probe, probabilities(probe, features), params));
}

std::optional<py::dict> calibration_of(const probe::Probe & probe) {
    if (!probe.calibration) {
        return std::nullopt;
    }
    const probe::Calibration & c = *probe.calibration;
    py::dict out;
    out["score"] = probe::conformal_score_name(c.params);
    out["per_class"] = c.per_class;
    out["alpha"] = c.alpha;
    out["rows"] = c.scores.size();
    out["q_hat"] = c.q_hat(c.alpha);
    return out;
}

}  // namespace

void register_probe(py::module_ & module) {
    py::module_ m = module.def_submodule("probe", "Few-shot probes on vision features (docs/probes.md).");
    py::class_<probe::Probe>(m, "Probe",
                             "A linear softmax classifier on one encoder's features with its classes, "
                             "normalisation and conformal calibration (the file `dermlens probe train` writes).")
        .def_readonly("classes", &probe::Probe::classes, "Class names in output order.")
        .def_readonly("label_set", &probe::Probe::label_set, "The knowledge-base label set of the classes, or ''.")
        .def_readonly("dimension", &probe::Probe::dimension, "The feature dimension it reads.")
        .def_property_readonly("method", [](const probe::Probe & p) { return probe::probe_method_name(p.method); },
                               "logreg | linear")
        .def_property_readonly("weights", [](const probe::Probe & p) { return p.weights; },
                               "classes x dimension, applied to normalised features (a copy).")
        .def_property_readonly("bias", [](const probe::Probe & p) { return p.bias; }, "One per class (a copy).")
        .def_property_readonly("C", [](const probe::Probe & p) { return p.hyperparameters.c; },
                               "logreg: the regularisation C used.")
        .def_property_readonly("calibration", &calibration_of,
                               "The conformal calibration {score, per_class, alpha, rows, q_hat}, or None.")
        .def("predict_proba", &probabilities, py::arg("features"),
             "Class probabilities, rows x classes (float64), of raw feature rows (float32 read in place).")
        .def(
            "predict",
            [](const probe::Probe & p, const FeatureArray & features) {
                std::vector<std::string> out;
                for (const auto & set : top_k(p, features, 1)) {
                    out.push_back(set.front());
                }
                return out;
            },
            py::arg("features"), "The most likely class of each row.")
        .def("top_k", &top_k, py::arg("features"), py::arg("k") = 5,
             "The k most likely classes of each row, most likely first.")
        .def("conformal_sets", &conformal_sets, py::arg("features"), py::kw_only(), py::arg("alpha") = py::none(),
             py::arg("score") = py::none(), py::arg("per_class") = false, py::arg("min_size") = 1,
             py::arg("max_size") = 0,
             "The conformal candidate set of each row, most likely first: P(truth in set) >= 1 - alpha (default: "
             "the calibrated alpha). `score` (lac | aps | raps | aps-plain) or per_class=True recalibrate on the "
             "probe's stored calibration rows.")
        .def(
            "save", [](const probe::Probe & p, const std::filesystem::path & path) { probe::save_probe(p, path); },
            py::arg("path"), "Write the probe file (docs/probes.md), readable by the CLI and Engine(probe=...).");
    m.def(
        "load", [](const std::filesystem::path & path) { return probe::load_probe(path); }, py::arg("path"),
        "Read a probe file; raises dermlens.InvalidInput naming the file and the field for anything malformed.");
    m.def("train", &train, py::arg("features"), py::arg("labels"), py::arg("splits") = py::none(), py::kw_only(),
          py::arg("method") = "logreg", py::arg("shots") = 8, py::arg("seed") = 0, py::arg("standardize") = false,
          py::arg("C") = py::none(), py::arg("learning_rate") = py::none(), py::arg("score") = "lac",
          py::arg("per_class") = false, py::arg("alpha") = 0.1, py::arg("label_set") = py::none(),
          py::arg("patient_ids") = py::none(), py::arg("images") = py::none(),
          R"(Train a probe as `dermlens probe train` does (its first seed), on a rows x features array.

features: float32 rows, read in place whatever their strides (other dtypes are converted first).
labels: one per row. splits: one of train, val, calib, test per row, or None (a seeded split is
made, keeping patient_ids together). shots: training rows per class (0: all). method: logreg (C by
cross-validation unless given) or linear (learning_rate on the val split unless given). The calib
rows calibrate conformal sets with `score` at level alpha (per_class: one quantile per class).
label_set: order the classes as that knowledge-base label set does and record it.)");
}

}  // namespace dermlens::python
