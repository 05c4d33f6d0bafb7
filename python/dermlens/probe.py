"""Few-shot probes on vision features (docs/probes.md): `train()` on a NumPy array (float32
rows are read in place, not copied), `load()` a probe file, then `predict_proba`, `top_k` and
`conformal_sets`. The features of an image are `Engine.encode(image).encoder_mean`."""

from ._dermlens.probe import Probe, load, train

__all__ = ["Probe", "load", "train"]
