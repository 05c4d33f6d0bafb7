// dermlens.metrics: the evaluation metrics of src/metrics/ (defined as scikit-learn defines them,
// docs/probes.md and docs/eval.md) on class indices and probability rows, and paper 003's
// clinical grading of free diagnoses.
#include "bindings.h"

#include "metrics/graded_diagnosis.h"
#include "metrics/metrics.h"

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

namespace dermlens::python {
namespace {

using Labels = std::vector<int>;

py::dict set_statistics_of(const metrics::SetStatistics & s) {
    py::dict out;
    out["rows"] = s.rows;
    out["coverage"] = s.coverage;
    out["mean_size"] = s.mean_size;
    out["median_size"] = s.median_size;
    out["empty_share"] = s.empty_share;
    out["singleton_share"] = s.singleton_share;
    return out;
}

std::vector<bool> as_bools(const std::vector<int> & values) {
    return {values.begin(), values.end()};
}

}  // namespace

void register_metrics(py::module_ & module) {
    py::module_ m = module.def_submodule(
        "metrics", "Classification, candidate-set and calibration metrics as scikit-learn defines them; y_true and "
                   "y_pred are class indices, probabilities rows x classes.");
    m.def("accuracy", &metrics::accuracy, py::arg("y_true"), py::arg("y_pred"), "Fraction of rows predicted right.");
    m.def("macro_f1", &metrics::macro_f1, py::arg("y_true"), py::arg("y_pred"),
          "sklearn's f1_score(average='macro'): classes in y_true or y_pred; undefined values count 0.");
    m.def("macro_precision", &metrics::macro_precision, py::arg("y_true"), py::arg("y_pred"),
          "sklearn's precision_score(average='macro', zero_division=0).");
    m.def("macro_recall", &metrics::macro_recall, py::arg("y_true"), py::arg("y_pred"),
          "sklearn's recall_score(average='macro', zero_division=0).");
    m.def("balanced_accuracy", &metrics::balanced_accuracy, py::arg("y_true"), py::arg("y_pred"),
          "Mean recall over the classes in y_true (sklearn's balanced_accuracy_score).");
    m.def("confusion_matrix", &metrics::confusion_matrix, py::arg("y_true"), py::arg("y_pred"), py::arg("classes"),
          "Counts of (true class, predicted class), classes x classes (sklearn's confusion_matrix).");
    m.def("top_k_accuracy", &metrics::top_k_accuracy, py::arg("y_true"), py::arg("probabilities"), py::arg("k"),
          "Fraction of rows whose true class is among the k most likely.");
    m.def("roc_auc_ovr_macro", &metrics::roc_auc_ovr_macro, py::arg("y_true"), py::arg("probabilities"),
          "sklearn's roc_auc_score(multi_class='ovr', average='macro'); classes absent from y_true are left out.");
    m.def(
        "expected_calibration_error",
        [](const std::vector<double> & confidence, const std::vector<int> & correct, std::size_t bins) {
            return metrics::expected_calibration_error(confidence, as_bools(correct), bins);
        },
        py::arg("confidence"), py::arg("correct"), py::arg("bins") = 15,
        "ECE over equal-width confidence bins (Guo et al. 2017).");
    m.def("set_coverage", &metrics::set_coverage, py::arg("y_true"), py::arg("sets"),
          "Fraction of rows whose true class is in its candidate set (sets of class indices).");
    m.def(
        "set_statistics",
        [](const Labels & truth, const std::vector<std::vector<std::size_t>> & sets) {
            return set_statistics_of(metrics::set_statistics(truth, sets));
        },
        py::arg("y_true"), py::arg("sets"),
        "Coverage, mean and median size, share of empty and one-class sets of candidate sets.");
    m.def(
        "grade_diagnosis",
        [](const kb::KnowledgeBase & base, const std::string & predicted, const std::string & truth,
           const std::string & label_set) {
            const metrics::GradedDiagnosis graded = metrics::grade_diagnosis(base, predicted, truth, label_set);
            py::dict out;
            out["name"] = graded.name;
            out["condition"] = graded.condition;
            out["grade"] = std::string(metrics::grade_name(graded.grade));
            out["correct"] = metrics::is_correct(graded.grade);
            return out;
        },
        py::arg("kb"), py::arg("predicted"), py::arg("truth"), py::arg("label_set"),
        "Paper 003's clinical grading of a free diagnosis: exact, synonym, subclass and an acceptable parent are "
        "correct; {name, condition, grade, correct}.");
}

}  // namespace dermlens::python
