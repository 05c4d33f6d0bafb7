"""NumPy reference for dermlens's GRPO (tests/rewards/test_grpo.cpp): group advantages and the
per-token clipped objective with the k3 KL estimate, written from the formulas (paper 002 eq. 4 with
the Skin-R1 code's TRL loss, paper 003's token-level objective), independently of the C++.

    grpo_reference.py INPUT.json   -> prints {"advantages": [...], "objectives": {...}}
"""
import json
import sys

import numpy as np


def advantages(rewards, group_size, epsilon):
    r = np.asarray(rewards, dtype=np.float64).reshape(-1, group_size)
    mean = r.mean(axis=1, keepdims=True)
    std = r.std(axis=1, ddof=1, keepdims=True)
    a = (r - mean) / (std + epsilon)
    constant = (r == r[:, :1]).all(axis=1)
    a[constant] = 0.0
    return a.reshape(-1)


def objective(batch, clip_low, clip_high, beta, aggregation):
    surrogates, kls, lengths = [], [], []
    for c in batch:
        logp, old, ref = (np.asarray(c[k], dtype=np.float64) for k in ("logp", "old_logp", "ref_logp"))
        ratio = np.exp(logp - old)
        adv = c["advantage"]
        surrogate = np.minimum(ratio * adv, np.clip(ratio, 1 - clip_low, 1 + clip_high) * adv)
        kl = np.exp(ref - logp) - (ref - logp) - 1
        surrogates.append(surrogate)
        kls.append(kl)
        lengths.append(len(logp))
    if aggregation == "sequence":
        s = np.mean([x.mean() for x in surrogates])
        k = np.mean([x.mean() for x in kls])
    else:
        s = np.concatenate(surrogates).sum() / sum(lengths)
        k = np.concatenate(kls).sum() / sum(lengths)
    return {"loss": float(-(s - beta * k)), "surrogate": float(s), "kl": float(k)}


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    out = {"advantages": advantages(data["rewards"], data["group_size"], data["epsilon"]).tolist(), "objectives": {}}
    for aggregation in ("sequence", "token"):
        out["objectives"][aggregation] = objective(data["batch"], data["clip_low"], data["clip_high"], data["beta"],
                                                   aggregation)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
