"""dermlens.Engine on a generated tiny Gemma 3: the report of `dermlens diagnose --json` for an
image given as a path, as bytes and as pixels; bad input raised as dermlens exceptions naming it;
Ctrl-C (KeyboardInterrupt) cancelling a running describe-then-decide within a second with the
Engine usable after; the GIL released during inference; parallel=2 decoding two calls from two
Python threads at once, each giving the single-session report; the encoding reused; data found
installed."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PilImage

import dermlens
from conftest import run_cli, stable

OPTIONS = dict(label_set="isic9class", strategy="describe-then-decide")


def cli_report(tiny_model, image, *extra):
    model, mmproj = tiny_model
    out = run_cli("diagnose", "--model", model, "--mmproj", mmproj, "--threads", "1", "--label-set", "isic9class",
                  "--strategy", "describe-then-decide", "--quality", "off", "--json", *extra, image).stdout
    return json.loads(out)[0]


def without_image(report):
    report = stable(report)
    report.pop("image")
    return report


def test_a_path_bytes_and_pixels_give_the_cli_report(engine, tiny_model, lesions):
    image = lesions[0]
    theirs = stable(cli_report(tiny_model, str(image)))

    from_path = engine.diagnose(str(image), **OPTIONS)
    assert stable(from_path) == theirs
    assert from_path["description"] is not None

    from_bytes = engine.diagnose(image.read_bytes(), **OPTIONS)
    assert without_image(from_bytes) == without_image(theirs)
    assert from_bytes["image"]["sha256"] == theirs["image"]["sha256"]

    pixels = np.asarray(PilImage.open(image).convert("RGB"))
    from_pixels = engine.diagnose(pixels, **OPTIONS)
    assert without_image(from_pixels) == without_image(theirs)
    assert (from_pixels["image"]["width"], from_pixels["image"]["height"]) == (pixels.shape[1], pixels.shape[0])

    assert stable(engine.diagnose(Path(image), **OPTIONS)) == theirs  # os.PathLike too


def test_the_quality_gate_reports_and_refuses_as_the_cli_does(engine, tiny_model, lesions, tmp_path):
    model, mmproj = tiny_model
    grey = tmp_path / "grey.png"  # flat and small: rejected for contrast and resolution
    PilImage.new("RGB", (40, 40), (128, 128, 128)).save(grey)
    for quality, image in (("report", str(lesions[0])), ("reject", str(grey))):
        cli = run_cli("diagnose", "--model", model, "--mmproj", mmproj, "--threads", "1", "--label-set", "isic9class",
                      "--strategy", "describe-then-decide", "--quality", quality, "--json", image).stdout
        ours = engine.diagnose(image, quality=quality, **OPTIONS)
        assert stable(ours) == stable(json.loads(cli)[0])
    assert "too little contrast" in ours["refused"] and "candidates" not in ours
    assert "quality" not in engine.diagnose(str(lesions[0]), **OPTIONS)  # off unless asked
    with pytest.raises(dermlens.InvalidArgument, match="quality: expected"):
        engine.diagnose(str(lesions[0]), quality="strict", **OPTIONS)
    with pytest.raises(dermlens.InvalidArgument, match="EncodedImage holds no pixels"):
        engine.diagnose(engine.encode(str(lesions[0])), quality="report", **OPTIONS)


def test_an_encoding_serves_diagnoses_without_the_encoder(engine, lesions):
    encoded = engine.encode(str(lesions[1]))
    assert encoded.encoder_mean.dtype == np.float32 and encoded.encoder_mean.ndim == 1
    assert not encoded.encoder_mean.flags.writeable
    assert encoded.image_tokens > 0
    runs = engine.info()["encoder_runs"]
    assert stable(engine.diagnose(encoded, **OPTIONS)) == stable(engine.diagnose(str(lesions[1]), **OPTIONS))
    assert engine.info()["encoder_runs"] == runs + 1  # only the diagnosis from the path encoded again


def test_a_bad_image_raises_invalid_input_naming_it(engine, tmp_path):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this JPEG stops here")
    with pytest.raises(dermlens.InvalidInput) as raised:
        engine.diagnose(str(corrupt), **OPTIONS)
    assert "corrupt.jpg" in str(raised.value)
    assert raised.value.kind == "invalid_input"
    assert raised.value.message == str(raised.value)
    assert isinstance(raised.value, dermlens.Error) and isinstance(raised.value, ValueError)

    with pytest.raises(dermlens.InvalidInput, match="missing.png"):
        engine.diagnose(str(tmp_path / "missing.png"), **OPTIONS)
    with pytest.raises(dermlens.InvalidInput, match="H x W x 3 uint8"):
        engine.diagnose(np.zeros((8, 8), np.uint8), **OPTIONS)
    with pytest.raises(dermlens.InvalidInput, match="image"):
        engine.diagnose(42, **OPTIONS)


def test_bad_parameters_raise_invalid_argument_naming_the_field(engine, lesions, tiny_model):
    with pytest.raises(dermlens.InvalidArgument) as raised:
        engine.diagnose(str(lesions[0]), label_set="isic9class", strategy="guess")
    assert raised.value.field == "strategy"
    with pytest.raises(dermlens.InvalidArgument) as raised:
        engine.diagnose(str(lesions[0]), label_set="isic9class", context={"age": 300})
    assert "age" in raised.value.message
    with pytest.raises(dermlens.InvalidModel):
        dermlens.Engine(lesions[0], tiny_model[1], threads=1)


def test_keyboard_interrupt_cancels_within_a_second_and_the_engine_goes_on(engine, lesions):
    image = str(lesions[2])
    before = stable(engine.diagnose(image, **OPTIONS))
    generating = threading.Event()
    sent = []

    def interrupt():  # Ctrl-C from outside while the model generates the description
        generating.wait()
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    def progress(stage, step, total):
        if stage == "generate":
            generating.set()

    thread = threading.Thread(target=interrupt)
    thread.start()
    with pytest.raises(KeyboardInterrupt):
        engine.diagnose(image, progress=progress, **OPTIONS)
    stopped = time.monotonic()
    thread.join()
    assert sent and stopped - sent[0] < 1.0
    assert stable(engine.diagnose(image, **OPTIONS)) == before


def test_an_exception_in_the_progress_callback_stops_the_call(engine, lesions):
    def progress(stage, step, total):
        if stage == "generate" and step == 2:
            raise LookupError("enough")

    with pytest.raises(LookupError, match="enough"):
        engine.diagnose(str(lesions[0]), progress=progress, **OPTIONS)


def test_the_gil_is_released_during_inference(engine, lesions):
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(None)
            time.sleep(0.001)

    encoded = engine.encode(str(lesions[0]))
    thread = threading.Thread(target=count)
    thread.start()
    time.sleep(0.01)
    start = len(ticks)
    began = time.monotonic()
    engine.diagnose(encoded, **OPTIONS)
    elapsed = time.monotonic() - began
    during = len(ticks) - start
    stop.set()
    thread.join()
    # A held GIL would leave the thread one tick at most (the interpreter switches every 5 ms).
    assert during >= max(3, int(elapsed * 1000 / 20)), (during, elapsed)


def test_parallel_engines_decode_two_calls_at_once_with_the_single_session_reports(engine, tiny_model, lesions):
    model, mmproj = tiny_model
    alone = [stable(engine.diagnose(str(image), **OPTIONS)) for image in lesions[:2]]
    both = dermlens.Engine(model, mmproj, threads=1, parallel=2)
    assert both.info()["parallel"] == 2
    decoding = threading.Barrier(2, timeout=30)  # opens only when both calls are inside their decoding
    met, busy, reports = [False, False], [0, 0], [None, None]

    def diagnose(i):
        def progress(stage, step, total):
            if stage == "generate" and step == 0 and not met[i]:
                decoding.wait()
                met[i] = True
                busy[i] = both.info()["busy_sessions"]
        reports[i] = stable(both.diagnose(str(lesions[i]), progress=progress, **OPTIONS))

    threads = [threading.Thread(target=diagnose, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert met == [True, True], "the two calls were never decoding at the same time"
    assert busy == [2, 2]
    assert reports == alone
    with pytest.raises(dermlens.InvalidArgument, match="parallel"):
        dermlens.Engine(model, mmproj, threads=1, parallel=0)


def test_the_installed_package_reads_its_own_data_folder():
    data = Path(dermlens.data_dir())
    assert (data / "kb").is_dir()
    if "DERMLENS_DATA_DIR" not in os.environ and "site-packages" in dermlens.__file__:
        assert data.resolve() == (Path(dermlens.__file__).parent / "share" / "dermlens").resolve()


def test_attention_maps_come_back_as_arrays(tiny_model, lesions, tmp_path):
    model, mmproj = tiny_model
    engine = dermlens.Engine(model, mmproj, threads=1, capture_attention=True)
    report = engine.diagnose(lesions[0], label_set="isic9class", attention=True, heatmap_dir=tmp_path)
    grid = report["grounding"]["token_grid"]
    heatmaps = report["heatmaps"]
    assert set(heatmaps) == {"label", "all"}
    for name, values in heatmaps.items():
        assert values.shape == (grid["rows"], grid["columns"]) and values.dtype == np.float32
        assert (values >= 0).all() and values.sum() > 0
        written = next(Path(f) for f in report["grounding"]["files"] if f.endswith(f"{name}.npy"))
        written = written if written.is_absolute() else tmp_path / written
        np.testing.assert_allclose(np.load(written), values, atol=1e-6)
