#!/usr/bin/env python3
"""scikit-learn reference for dermlens's probe tests (tests/probe/test_sklearn_reference.cpp).

  sklearn_reference.py fit TRAIN.csv TEST.csv C
      LogisticRegression(multi_class='multinomial', penalty='l2', C=C), solved tightly;
      prints {"test_proba": [[...]], "test_accuracy": a, "coef": [[...]], "intercept": [...],
      "objective": sum of cross-entropy over TRAIN.csv + ||coef||^2 / (2C)}
  sklearn_reference.py cv TRAIN.csv TEST.csv C1 C2 ...
      GridSearchCV(scoring='roc_auc_ovr') over C with the folds of TRAIN.csv's fold column
      (PredefinedSplit), refit on all of TRAIN.csv; prints {"mean_scores": [...], "best_C": c,
      "stratified_folds": [...] (StratifiedKFold(5) without shuffle), "test_proba": [[...]]}
  sklearn_reference.py metrics PRED.csv K
      PRED.csv: label,p0,p1,...; prints accuracy, f1 (macro), balanced accuracy, macro
      one-vs-rest ROC-AUC and top-K accuracy of the argmax predictions.

Data files: header label,fold,f0,f1,... with integer labels and folds.

The solver is scikit-learn's newton-cg with tol 1e-8 (it stops when the largest gradient
component is below that): the same objective as the default lbfgs, which stops on scipy's
default relative decrease of 2.2e-9 and so leaves probabilities off by up to ~1e-4.
"""
import json
import sys
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score,
                             top_k_accuracy_score)
from sklearn.model_selection import GridSearchCV, PredefinedSplit, StratifiedKFold


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    # The features are float32 values in their shortest decimal form: as float32 they are exact.
    features = data[:, 2:].astype(np.float32).astype(np.float64)
    return features, data[:, 0].astype(int), data[:, 1].astype(int)


def model(c):
    return LogisticRegression(multi_class="multinomial", penalty="l2", C=c, solver="newton-cg", tol=1e-8,
                              max_iter=1000)


def objective(fitted, x, y, c):
    z = x @ fitted.coef_.T + fitted.intercept_
    z -= z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(z).sum(axis=1))
    return float((log_sum - z[np.arange(len(y)), y]).sum() + 0.5 / c * (fitted.coef_ ** 2).sum())


def main(argv):
    warnings.simplefilter("ignore")  # convergence and line-search chatter on stderr
    mode = argv[1]
    if mode == "fit":
        x, y, _ = load(argv[2])
        tx, ty, _ = load(argv[3])
        c = float(argv[4])
        fitted = model(c).fit(x, y)
        out = {"test_proba": fitted.predict_proba(tx).tolist(),
               "test_accuracy": float(accuracy_score(ty, fitted.predict(tx))),
               "coef": fitted.coef_.tolist(), "intercept": fitted.intercept_.tolist(),
               "objective": objective(fitted, x, y, c)}
    elif mode == "cv":
        x, y, folds = load(argv[2])
        tx, _, _ = load(argv[3])
        grid = [float(c) for c in argv[4:]]
        search = GridSearchCV(model(1.0), {"C": grid}, scoring="roc_auc_ovr", cv=PredefinedSplit(folds),
                              refit=True)
        search.fit(x, y)
        stratified = np.empty(len(y), dtype=int)
        for fold, (_, held) in enumerate(StratifiedKFold(n_splits=5).split(x, y)):
            stratified[held] = fold
        out = {"mean_scores": search.cv_results_["mean_test_score"].tolist(),
               "best_C": search.best_params_["C"], "stratified_folds": stratified.tolist(),
               "test_proba": search.predict_proba(tx).tolist()}
    elif mode == "metrics":
        data = np.loadtxt(argv[2], delimiter=",", skiprows=1)
        y, proba = data[:, 0].astype(int), data[:, 1:]
        predicted = proba.argmax(axis=1)
        k = int(argv[3])
        out = {"accuracy": accuracy_score(y, predicted),
               "macro_f1": f1_score(y, predicted, average="macro", zero_division=0),
               "balanced_accuracy": balanced_accuracy_score(y, predicted),
               "roc_auc": roc_auc_score(y, proba, multi_class="ovr", average="macro"),
               "top_k_accuracy": top_k_accuracy_score(y, proba, k=k, labels=list(range(proba.shape[1])))}
    else:
        raise SystemExit(f"unknown mode {mode}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
