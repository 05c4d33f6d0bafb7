import os
from typing import Any, Callable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import kb as kb, metrics as metrics, probe as probe, rewards as rewards
from .kb import KnowledgeBase

__version__: str
llama_cpp_commit: str

PathLike = Union[str, os.PathLike[str]]
ImageInput = Union[PathLike, bytes, bytearray, memoryview, npt.NDArray[np.uint8], "EncodedImage"]
Progress = Callable[[str, int, int], None]

class Error(Exception):
    """Any error dermlens reports."""

    kind: str
    message: str
    field: Optional[str]

class InvalidArgument(Error, ValueError): ...
class InvalidInput(Error, ValueError): ...
class InvalidModel(Error): ...
class Runtime(Error, RuntimeError): ...
class Cancelled(Error): ...

def data_dir() -> str:
    """The data folder in use (knowledge base, prompts, grammars)."""

def assess_quality(
    image: Union[PathLike, bytes, bytearray, memoryview, npt.NDArray[np.uint8]],
    *,
    thresholds: Optional[PathLike] = None,
    modality: Optional[str] = None,
    modality_library: Optional[PathLike] = None,
) -> dict[str, Any]:
    """The image-quality gate: the object `dermlens quality --json` prints for the image."""

def set_data_dir(path: str) -> None:
    """Read data files from `path` from now on (process-wide)."""

class EncodedImage:
    """One image through the vision encoder, reusable for any number of diagnoses."""

    @property
    def image(self) -> dict[str, Any]: ...
    @property
    def encoder_mean(self) -> npt.NDArray[np.float32]: ...
    @property
    def projected_mean(self) -> npt.NDArray[np.float32]: ...
    @property
    def image_tokens(self) -> int: ...
    @property
    def encode_ms(self) -> float: ...

class Engine:
    """A loaded model pair with the knowledge base, an optional probe and embedding cache."""

    def __init__(
        self,
        model: PathLike,
        mmproj: PathLike,
        *,
        probe: Optional[PathLike] = None,
        cache: Optional[PathLike] = None,
        threads: int = 0,
        parallel: int = 1,
        context_size: int = 4096,
        batch_size: int = 512,
        flash_attention: str = "auto",
        vision_flash_attention: str = "auto",
        capture_attention: bool = False,
        reuse_prefix: bool = True,
        kb_overlays: Sequence[PathLike] = (),
        data_dir: Optional[PathLike] = None,
        conformal_score: str = "",
        per_class_calibration: bool = False,
    ) -> None: ...
    def encode(self, image: ImageInput, *, progress: Optional[Progress] = None) -> EncodedImage:
        """Encode an image once: the probe's features and the encoding diagnose() reuses."""
    def diagnose(
        self,
        image: ImageInput,
        *,
        labels: Optional[Sequence[str]] = None,
        label_set: str = "",
        strategy: str = "direct",
        style: str = "dermlens",
        schema: str = "five-criteria",
        decide: str = "score",
        candidates: str = "topk",
        top_k: int = 5,
        alpha: Optional[float] = None,
        not_sure: bool = False,
        abstain_below: float = 0.0,
        shuffle_options: bool = False,
        context: Optional[Mapping[str, Any]] = None,
        attention: bool = False,
        attention_layers: Optional[Tuple[int, int]] = None,
        attention_reduce: str = "mean",
        heatmap_dir: Optional[PathLike] = None,
        lesion_mask: Optional[PathLike] = None,
        lesion_box: Optional[str] = None,
        seed: int = 0,
        temperature: float = 0.0,
        max_tokens: int = 64,
        progress: Optional[Progress] = None,
    ) -> dict[str, Any]:
        """Diagnose one image: the report of `dermlens diagnose --json` as a dict."""
    def info(self) -> dict[str, Any]:
        """What is loaded, the settings and the encoder / cache counters."""
    @property
    def kb(self) -> KnowledgeBase: ...
