"""The `python` blocks of docs/python.md, run in order in one namespace as a user would run them:
in a folder holding the tiny model under the example's file names and a folder of lesions."""

import functools
import re

import pandas as pd

import dermlens
from conftest import SOURCE_DIR


def test_the_worked_example_runs(tiny_model, lesions, tmp_path, monkeypatch):
    text = (SOURCE_DIR / "docs" / "python.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert len(blocks) >= 3
    model, mmproj = tiny_model
    (tmp_path / "medgemma-4b-it-Q4_K_M.gguf").symlink_to(model)
    (tmp_path / "mmproj-medgemma-4b-it-Q8_0.gguf").symlink_to(mmproj)
    (tmp_path / "lesions").mkdir()
    for lesion in lesions:
        (tmp_path / "lesions" / lesion.name).symlink_to(lesion)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # One ggml thread, as every model test (the example's Engine takes every core, which two
    # tests running at once on two cores would fight over).
    monkeypatch.setattr(dermlens, "Engine", functools.partial(dermlens.Engine, threads=1))

    namespace = {}
    for block in blocks:
        exec(compile(block, "docs/python.md", "exec"), namespace)

    table = namespace["table"]
    assert isinstance(table, pd.DataFrame)
    assert sorted(table["image"].unique()) == [lesion.name for lesion in lesions]
    assert (tmp_path / "differential.png").stat().st_size > 0
