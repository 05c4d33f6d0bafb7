"""What the Python package's tests share: the built CLI (the reference every report is compared
with), one generated tiny Gemma 3 model pair (`dermlens dev make-test-model`: random weights, a
real tokenizer), generated lesion images and one Engine on them. scripts/test-python sets
DERMLENS_CLI and DERMLENS_SOURCE_DIR."""

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PilImage

import dermlens

SOURCE_DIR = Path(os.environ.get("DERMLENS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
CLI = Path(os.environ.get("DERMLENS_CLI", SOURCE_DIR / "build" / "bin" / "dermlens"))


def run_cli(*args, check=True):
    """The CLI's stdout for `dermlens ARGS...` with one ggml thread."""
    result = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True,
                            env=dict(os.environ, DERMLENS_THREADS="1"))
    if check and result.returncode != 0:
        raise AssertionError(f"dermlens {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr}")
    return result


def stable(report):
    """A report without what differs between runs (docs/diagnose-json.md): timings, the encoding's origin."""
    report = json.loads(json.dumps(report))
    report.pop("timings", None)
    report["image"].pop("encoding", None)
    return report


def lesion_pixels(index):
    """A generated lesion: a dark blob on skin tones, H x W x 3 uint8 RGB, different per index."""
    height, width = 96 + 8 * index, 128
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[:] = (210 - 10 * index, 170, 150)
    blob = (x - 50 - 6 * index) ** 2 + (y - height / 2) ** 2 < (18 + 4 * index) ** 2
    pixels[blob] = (60, 35 + 10 * index, 30)
    return pixels


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """(model, mmproj) paths of a generated tiny Gemma 3 pair."""
    out = tmp_path_factory.mktemp("gemma3")
    printed = run_cli("dev", "make-test-model", "--out", out).stdout
    files = dict(re.findall(r"^(model|mmproj): (\S+)", printed, re.MULTILINE))
    return Path(files["model"]), Path(files["mmproj"])


@pytest.fixture(scope="session")
def lesions(tmp_path_factory):
    """A folder of three generated lesion PNGs (PNG: the same pixels for any decoder)."""
    folder = tmp_path_factory.mktemp("lesions")
    for index in range(3):
        PilImage.fromarray(lesion_pixels(index)).save(folder / f"lesion{index}.png")
    return sorted(folder.glob("*.png"))


@pytest.fixture(scope="session")
def engine(tiny_model):
    model, mmproj = tiny_model
    return dermlens.Engine(model, mmproj, threads=1)
