#!/usr/bin/env python3
"""NumPy reference of dermlens's conformal sets (tests/probe/test_conformal_reference.cpp),
written from the papers' definitions, not from dermlens's code.

  conformal_reference.py CASES.json

CASES.json: a list of cases, each
  {"score": "lac" | "aps" | "raps", "randomized": bool, "lambda": l, "k_reg": k (null: chosen),
   "per_class": bool, "alpha": a,
   "calib_probabilities": [[...]], "calib_labels": [...], "calib_u": [...],
   "tune_probabilities", "tune_labels", "tune_u": the rows held apart to choose RAPS's parameters,
   "test_probabilities": [[...]], "test_u": [...]}
prints a list of {"k_reg", "lambda", "thresholds": [per class, null for +inf], "sets": [[...]]},
each set's classes most likely first.

Scores, for classes ordered by decreasing probability (stable: equal probabilities keep class
order), rho(y) the probability of the classes ranked above y, o(y) y's rank from 1:
  LAC  (Sadinle et al. 2019):      s = 1 - p_y
  APS  (Romano et al. 2020):       s = rho(y) + u p_y          (u = 1 when not randomised)
  RAPS (Angelopoulos et al. 2021): s = rho(y) + u p_y + lambda (o(y) - k_reg)^+
q_hat = the ceil((n + 1)(1 - alpha)) / n empirical quantile of the calibration scores
(the inverted CDF: the ceil((n + 1)(1 - alpha))-th smallest), per class for Mondrian sets
(Vovk 2012; +inf when a class has too few rows); set = {y : s(x, y) <= q_hat(y)}.
RAPS's parameters as its authors' code picks them (github.com/aangelopoulos/conformal_classification,
pick_kreg / pick_lambda_size): k_reg = the (1 - alpha) "higher" quantile of the true class's
0-based rank, plus 1; lambda = the first of the grid with the smallest mean set size when the
held-apart rows are calibrated and measured on themselves (empty sets allowed).
"""
import json
import math
import sys

import numpy as np

# The RAPS authors' grid for lambda (conformal_classification, pick_lambda_size).
LAMBDA_GRID = [0.001, 0.01, 0.1, 0.2, 0.5]


def all_scores(p, u, score, randomized, lam, k_reg):
    n, k = p.shape
    order = np.argsort(-p, axis=1, kind="stable")
    sorted_p = np.take_along_axis(p, order, axis=1)
    above_sorted = np.concatenate([np.zeros((n, 1)), np.cumsum(sorted_p, axis=1)[:, :-1]], axis=1)
    above = np.empty_like(p)
    np.put_along_axis(above, order, above_sorted, axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.tile(np.arange(1, k + 1), (n, 1)), axis=1)
    if score == "lac":
        return 1.0 - p
    share = u[:, None] if randomized else 1.0
    s = above + share * p
    if score == "raps":
        s = s + lam * np.maximum(0, rank - k_reg)
    return s


def quantile(scores, alpha):
    n = len(scores)
    level = math.ceil((n + 1) * (1 - alpha)) / n
    if level > 1:
        return math.inf
    return float(np.quantile(scores, level, method="inverted_cdf"))


def thresholds(p, y, u, case, lam, k_reg):
    s = all_scores(p, u, case["score"], case["randomized"], lam, k_reg)[np.arange(len(y)), y]
    k = p.shape[1]
    if not case["per_class"]:
        return [quantile(s, case["alpha"])] * k
    return [quantile(s[y == c], case["alpha"]) if np.any(y == c) else math.inf for c in range(k)]


def sets(p, u, q, case, lam, k_reg):
    s = all_scores(p, u, case["score"], case["randomized"], lam, k_reg)
    order = np.argsort(-p, axis=1, kind="stable")
    return [[int(c) for c in order[i] if s[i, c] <= q[c]] for i in range(len(p))]


def pick_k_reg(p, y, alpha):
    order = np.argsort(-p, axis=1, kind="stable")
    rank0 = np.array([np.where(order[i] == y[i])[0][0] for i in range(len(y))])
    return int(np.quantile(rank0, 1 - alpha, method="higher")) + 1


def pick_lambda(p, y, u, case, k_reg):
    best, best_size = None, math.inf
    for lam in LAMBDA_GRID:
        tuned = dict(case, per_class=False)
        q = thresholds(p, y, u, tuned, lam, k_reg)
        size = np.mean([len(s) for s in sets(p, u, q, tuned, lam, k_reg)])
        if size < best_size:
            best, best_size = lam, size
    return best


def run(case):
    p = np.array(case["calib_probabilities"], dtype=float)
    y = np.array(case["calib_labels"], dtype=int)
    u = np.array(case["calib_u"], dtype=float)
    lam, k_reg = case["lambda"], case["k_reg"]
    if case["score"] == "raps" and (lam is None or k_reg is None):
        tp = np.array(case["tune_probabilities"], dtype=float)
        ty = np.array(case["tune_labels"], dtype=int)
        tu = np.array(case["tune_u"], dtype=float)
        if k_reg is None:
            k_reg = pick_k_reg(tp, ty, case["alpha"])
        if lam is None:
            lam = pick_lambda(tp, ty, tu, case, k_reg)
    lam = lam if lam is not None else 0.0
    k_reg = k_reg if k_reg is not None else 0
    q = thresholds(p, y, u, case, lam, k_reg)
    test = np.array(case["test_probabilities"], dtype=float)
    return {"k_reg": k_reg, "lambda": lam, "thresholds": [None if math.isinf(t) else t for t in q],
            "sets": sets(test, np.array(case["test_u"], dtype=float), q, case, lam, k_reg)}


def main(argv):
    with open(argv[1]) as f:
        cases = json.load(f)
    print(json.dumps([run(case) for case in cases]))


if __name__ == "__main__":
    main(sys.argv)
