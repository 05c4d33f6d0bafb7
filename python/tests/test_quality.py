"""dermlens.assess_quality: the object `dermlens quality --json` prints, for shared photos given
as paths, bytes and pixels; a blurred photo rejected for blur; the skin checks skipped for a
pathology slide; bad input raised naming it."""

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PilImage, ImageFilter

import dermlens
from conftest import SOURCE_DIR, run_cli

SHARED_DIR = Path(os.environ.get("DERMLENS_SHARED_DIR", SOURCE_DIR.parent / "shared"))
PHOTOS = sorted((SHARED_DIR / "data" / "images" / "clinical" / "pad-ufes-20" / "MEL").glob("*.png"))[:3]
SKIN_CHECKS = {"colour_cast", "lesion_in_frame", "lesion_size", "not_skin"}


def timeless(report):
    return {key: value for key, value in report.items() if key != "elapsed_ms"}


def test_the_shared_photos_have_the_cli_verdicts():
    assert len(PHOTOS) == 3, f"shared photos not found under {SHARED_DIR}"
    theirs = json.loads(run_cli("quality", "--json", *PHOTOS).stdout)
    for photo, cli in zip(PHOTOS, theirs):
        assert timeless(dermlens.assess_quality(photo)) == timeless(cli)
        assert timeless(dermlens.assess_quality(str(photo))) == timeless(cli)


def test_bytes_and_pixels_are_the_same_image_as_the_file():
    photo = PHOTOS[0]
    from_file = timeless(dermlens.assess_quality(photo))
    from_bytes = timeless(dermlens.assess_quality(photo.read_bytes()))
    from_pixels = timeless(dermlens.assess_quality(np.asarray(PilImage.open(photo).convert("RGB"))))
    assert from_bytes.pop("path") == "<bytes>" and from_pixels.pop("path") == "<array>"
    from_file.pop("path")
    assert from_bytes == from_file and from_pixels == from_file


def test_a_blurred_photo_is_rejected_for_blur():
    photo = PilImage.open(PHOTOS[0]).convert("RGB")
    blurred = io.BytesIO()
    photo.filter(ImageFilter.GaussianBlur(0.02 * max(photo.size))).save(blurred, "PNG")
    sharp = dermlens.assess_quality(PHOTOS[0])
    report = dermlens.assess_quality(blurred.getvalue())
    blur = {check["name"]: check for check in report["checks"]}["blur"]
    assert report["overall"] == "reject"
    assert blur["verdict"] == "reject" and blur["reason"] == "too blurred to judge the border"
    assert blur["score"] > {check["name"]: check for check in sharp["checks"]}["blur"]["score"]


def test_a_pathology_slide_skips_the_skin_checks():
    slide = sorted((SHARED_DIR / "data" / "images" / "pathology").rglob("*.*"))[0]
    report = dermlens.assess_quality(slide, modality="pathology")
    assert report["modality"] == "pathology"
    skipped = {check["name"] for check in report["checks"] if check["score"] is None}
    assert SKIN_CHECKS <= skipped
    assert all(check["verdict"] == "pass" for check in report["checks"] if check["name"] in SKIN_CHECKS)


def test_bad_input_is_raised_naming_it(tmp_path):
    with pytest.raises(dermlens.InvalidInput, match="<bytes>"):
        dermlens.assess_quality(b"not an image")
    with pytest.raises(dermlens.InvalidArgument, match="'x-ray' is unknown") as raised:
        dermlens.assess_quality(PHOTOS[0], modality="x-ray")
    assert raised.value.field == "modality"
    with pytest.raises(dermlens.InvalidArgument, match="no such file") as raised:
        dermlens.assess_quality(PHOTOS[0], thresholds=tmp_path / "missing.json")
    assert raised.value.field == "thresholds"
    bad = tmp_path / "thresholds.json"
    bad.write_text('{"format": "dermlens-quality-thresholds", "version": 1, "checks": [{"name": "blur"}]}')
    with pytest.raises(dermlens.InvalidInput, match="thresholds.json"):
        dermlens.assess_quality(PHOTOS[0], thresholds=bad)
