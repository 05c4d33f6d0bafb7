#!/usr/bin/env python3
"""numpy reference for dermlens's fusion (tests/probe/test_fusion.cpp, src/probe/fusion.h).

  fusion_reference.py DATA.json
      DATA.json: {"floor": f, "grid": [w, ...], "examples": [{"probe": [...], "vlm": [...], "truth": i | null}]}
      prints {"fused": [[[...] per example] per weight], "accuracy": [...], "log_loss": [...], "weight": w}

Computed directly with powers, p^w * q^(1 - w) / sum (dermlens works in log space): each side
renormalised over its candidates, floored at `floor`; accuracy = argmax (first maximum) equals the
truth over all examples (no truth = wrong); log loss = mean -log fused[truth] over the examples with
a truth (null when none has one). The weight: the highest accuracy, then the lowest log loss, then the closest to 0.5, then
the smallest (equal within 1e-12 at each step).
"""
import json
import sys

import numpy as np

TIE = 1e-12


def fused_row(probe, vlm, weight, floor):
    p = np.maximum(probe / probe.sum(), floor)
    q = np.maximum(vlm / vlm.sum(), floor)
    f = p ** weight * q ** (1.0 - weight)
    return f / f.sum()


def main(argv):
    with open(argv[1]) as file:
        data = json.load(file)
    floor = data["floor"]
    grid = np.array(data["grid"], dtype=float)
    examples = [(np.array(e["probe"], dtype=float), np.array(e["vlm"], dtype=float), e["truth"])
                for e in data["examples"]]
    fused, accuracy, log_loss = [], [], []
    for weight in grid:
        rows = [fused_row(p, q, weight, floor) for p, q, _ in examples]
        fused.append([row.tolist() for row in rows])
        accuracy.append(float(np.mean([t is not None and int(np.argmax(row)) == t
                                       for row, (_, _, t) in zip(rows, examples)])))
        losses = [-np.log(row[t]) for row, (_, _, t) in zip(rows, examples) if t is not None]
        log_loss.append(float(np.mean(losses)) if losses else None)
    accuracy_a, log_loss_a = np.array(accuracy), np.array(log_loss, dtype=float)  # None -> NaN
    keep = accuracy_a >= accuracy_a.max() - TIE
    if not np.isnan(log_loss_a).all():
        keep &= log_loss_a <= log_loss_a[keep].min() + TIE
    distance = np.abs(grid - 0.5)
    keep &= distance <= distance[keep].min() + TIE
    weight = float(grid[keep].min())
    print(json.dumps({"fused": fused, "accuracy": accuracy, "log_loss": log_loss, "weight": weight}))


if __name__ == "__main__":
    main(sys.argv)
