"""dermlens: grounded dermatological diagnosis with vision-language models, from Python.

A thin front end over the C++ library (docs/python.md)::

    import dermlens
    engine = dermlens.Engine("model.gguf", "mmproj.gguf", threads=4)
    report = engine.diagnose("lesion.jpg", label_set="isic9class", strategy="describe-then-decide")
    report["final_diagnosis"]["name"]

`report` is the object `dermlens diagnose --json` prints (docs/diagnose-json.md);
`dermlens.assess_quality("lesion.jpg")["overall"]` says first whether the photo is good enough
to judge (docs/quality.md). The submodules
`dermlens.kb`, `dermlens.probe`, `dermlens.metrics` and `dermlens.rewards` give the knowledge
base, few-shot probes on NumPy features, the evaluation metrics and the training rewards (with
the entry points of VERL and TRL). Errors raise `dermlens.Error` subclasses that carry
the error's `kind`, `message` and `field`.
"""

from ._dermlens import (
    Cancelled,
    EncodedImage,
    Engine,
    Error,
    InvalidArgument,
    InvalidInput,
    InvalidModel,
    Runtime,
    __version__,
    assess_quality,
    data_dir,
    llama_cpp_commit,
    set_data_dir,
)
from . import kb, metrics, probe, rewards

__all__ = [
    "Cancelled",
    "EncodedImage",
    "Engine",
    "Error",
    "InvalidArgument",
    "InvalidInput",
    "InvalidModel",
    "Runtime",
    "__version__",
    "assess_quality",
    "data_dir",
    "kb",
    "llama_cpp_commit",
    "metrics",
    "probe",
    "rewards",
    "set_data_dir",
]
