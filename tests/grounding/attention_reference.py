"""Reference attention statistics (scipy / numpy) for tests/grounding/test_attention_stats.cpp.

Reads a JSON file {"weights": [[w, ...], ...], "maps": [{"map": [[...]], "mask": [[...]]}, ...],
"samples": [[x, ...], ...]} and prints, as JSON, per weight vector its entropy (scipy), normalised
entropy, top-decile share and paper 003's histogram (numpy), per map its lesion mass share, area
share and pointing game (numpy's first argmax), per sample its mean and sample std (ddof=1).
"""
import json
import math
import sys

import numpy
import scipy.stats

EDGES = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, math.inf]


def token_stats(weights):
    w = numpy.asarray(weights, dtype=numpy.float64)
    p = w / w.sum()
    n = len(p)
    entropy = float(scipy.stats.entropy(w))
    top = int(math.ceil(n / 10))
    counts, _ = numpy.histogram(p, bins=EDGES)
    return {
        "entropy": entropy,
        "normalised_entropy": entropy / math.log(n) if n > 1 else 0.0,
        "top_decile_tokens": top,
        "top_decile_share": float(numpy.sort(p)[::-1][:top].sum()),
        "histogram": (counts / n).tolist(),
    }


def lesion_stats(case):
    heat = numpy.asarray(case["map"], dtype=numpy.float64)
    lesion = numpy.asarray(case["mask"]) >= 128
    peak = numpy.unravel_index(numpy.argmax(heat), heat.shape)
    return {
        "mass_share": float(heat[lesion].sum() / heat.sum()),
        "area_share": float(lesion.mean()),
        "pointing_hit": bool(lesion[peak]),
    }


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    print(json.dumps({
        "weights": [token_stats(w) for w in data["weights"]],
        "maps": [lesion_stats(m) for m in data["maps"]],
        "samples": [{"mean": float(numpy.mean(s)), "std": float(numpy.std(s, ddof=1)) if len(s) > 1 else 0.0}
                    for s in data["samples"]],
    }))


if __name__ == "__main__":
    main()
