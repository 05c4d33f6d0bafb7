#!/usr/bin/env python3
"""scikit-learn and numpy reference for dermlens's metrics (tests/eval/test_metrics_sklearn.cpp).

  metrics_reference.py CASES.json
      CASES.json: a list of {"classes": K, "truth": [...], "predicted": [...],
      "probabilities": [[K values] per row], "confidence": [...], "correct": [...], "bins": B}.
      Prints one object per case: accuracy, macro_f1, balanced_accuracy, macro_precision,
      macro_recall (sklearn, average='macro', zero_division=0), roc_auc (roc_auc_score with
      multi_class='ovr', average='macro', or of the second column for two classes; null when a
      class is absent from truth, which sklearn refuses), confusion_matrix (labels=range(K)), and the reliability bins and expected
      calibration error of numpy code written here (bin_counts, bin_mean_confidence with null
      for empty bins, bin_accuracy, ece).

Calibration bins: bin b of B is (b/B, (b+1)/B], the first also holding 0; the edges are
np.arange(B + 1) / B, the same doubles as dermlens's b / B.
"""
import json
import sys
import warnings

import numpy as np
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, precision_score,
                             recall_score, roc_auc_score)


def calibration(confidence, correct, bins):
    edges = np.arange(bins + 1) / bins
    # searchsorted(side='left') - 1 is the b with edges[b] < c <= edges[b + 1]; c = 0 goes to bin 0.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    confidence_sums = np.bincount(which, weights=confidence, minlength=bins)
    right = np.bincount(which, weights=correct.astype(float), minlength=bins)
    filled = counts > 0
    mean_confidence = np.where(filled, confidence_sums / np.maximum(counts, 1), np.nan)
    accuracy = np.where(filled, right / np.maximum(counts, 1), np.nan)
    ece = float(np.sum(counts[filled] / len(confidence) * np.abs(accuracy[filled] - mean_confidence[filled])))
    as_list = lambda values: [None if np.isnan(v) else float(v) for v in values]
    return {"bin_counts": counts.tolist(), "bin_mean_confidence": as_list(mean_confidence),
            "bin_accuracy": as_list(accuracy), "ece": ece}


def score(case):
    classes = case["classes"]
    truth, predicted = np.array(case["truth"]), np.array(case["predicted"])
    probabilities = np.array(case["probabilities"], dtype=float)
    macro = {"average": "macro", "zero_division": 0}
    out = {"accuracy": accuracy_score(truth, predicted),
           "macro_f1": f1_score(truth, predicted, **macro),
           "balanced_accuracy": balanced_accuracy_score(truth, predicted),
           "macro_precision": precision_score(truth, predicted, **macro),
           "macro_recall": recall_score(truth, predicted, **macro),
           "roc_auc": None,
           "confusion_matrix": confusion_matrix(truth, predicted, labels=list(range(classes))).tolist()}
    if len(np.unique(truth)) == classes:
        # For two classes sklearn takes the positive class's scores; both one-vs-rest AUCs equal that one.
        out["roc_auc"] = (roc_auc_score(truth, probabilities[:, 1]) if classes == 2 else
                          roc_auc_score(truth, probabilities, multi_class="ovr", average="macro"))
    out.update(calibration(np.array(case["confidence"], dtype=float), np.array(case["correct"], dtype=bool),
                           case["bins"]))
    return out


def main(argv):
    warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true" and the like
    with open(argv[1]) as f:
        cases = json.load(f)
    json.dump([score(case) for case in cases], sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
