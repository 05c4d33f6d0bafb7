import os
from typing import Any, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

Features = npt.ArrayLike

class Probe:
    """A linear softmax classifier on one encoder's features with its conformal calibration."""

    classes: list[str]
    label_set: str
    dimension: int
    @property
    def method(self) -> str: ...
    @property
    def weights(self) -> npt.NDArray[np.float64]: ...
    @property
    def bias(self) -> npt.NDArray[np.float64]: ...
    @property
    def C(self) -> float: ...
    @property
    def calibration(self) -> Optional[dict[str, Any]]: ...
    def predict_proba(self, features: Features) -> npt.NDArray[np.float64]:
        """Class probabilities, rows x classes."""
    def predict(self, features: Features) -> list[str]:
        """The most likely class of each row."""
    def top_k(self, features: Features, k: int = 5) -> list[list[str]]:
        """The k most likely classes of each row."""
    def conformal_sets(
        self,
        features: Features,
        *,
        alpha: Optional[float] = None,
        score: Optional[str] = None,
        per_class: bool = False,
        min_size: int = 1,
        max_size: int = 0,
    ) -> list[list[str]]:
        """The conformal candidate set of each row, most likely first."""
    def save(self, path: Union[str, os.PathLike[str]]) -> None: ...

def load(path: Union[str, os.PathLike[str]]) -> Probe:
    """Read a probe file."""

def train(
    features: Features,
    labels: Sequence[str],
    splits: Optional[Sequence[str]] = None,
    *,
    method: str = "logreg",
    shots: int = 8,
    seed: int = 0,
    standardize: bool = False,
    C: Optional[float] = None,
    learning_rate: Optional[float] = None,
    score: str = "lac",
    per_class: bool = False,
    alpha: float = 0.1,
    label_set: Optional[str] = None,
    patient_ids: Optional[Sequence[str]] = None,
    images: Optional[Sequence[str]] = None,
) -> Probe:
    """Train a probe as `dermlens probe train` does (its first seed)."""
