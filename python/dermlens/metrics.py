"""Evaluation metrics as scikit-learn defines them (accuracy, macro F1 / precision / recall,
balanced accuracy, confusion matrix, top-k accuracy, one-vs-rest ROC-AUC, expected calibration
error, candidate-set coverage) and paper 003's clinical grading of free diagnoses."""

from ._dermlens.metrics import (
    accuracy,
    balanced_accuracy,
    confusion_matrix,
    expected_calibration_error,
    grade_diagnosis,
    macro_f1,
    macro_precision,
    macro_recall,
    roc_auc_ovr_macro,
    set_coverage,
    set_statistics,
    top_k_accuracy,
)

__all__ = [
    "accuracy",
    "balanced_accuracy",
    "confusion_matrix",
    "expected_calibration_error",
    "grade_diagnosis",
    "macro_f1",
    "macro_precision",
    "macro_recall",
    "roc_auc_ovr_macro",
    "set_coverage",
    "set_statistics",
    "top_k_accuracy",
]
