"""dermlens.probe on NumPy arrays: a probe trained from an array is the CLI's probe trained on the
same features (`dermlens probe train`), the array is read in place whatever its strides, conformal
sets are the CLI's, and probe files round-trip."""

import json

import numpy as np
import pytest

import dermlens
from conftest import run_cli

CLASSES = ["melanoma", "nevus", "seborrheic keratosis"]


def feature_rows(rows=90, dimension=12, seed=7):
    """Three separable-ish classes of float32 features with train / calib / test splits."""
    rng = np.random.default_rng(seed)
    labels = [CLASSES[i % 3] for i in range(rows)]
    centres = rng.normal(size=(3, dimension))
    features = (centres[[i % 3 for i in range(rows)]] + rng.normal(scale=1.5, size=(rows, dimension))).astype(np.float32)
    splits = ["train" if i < 45 else "calib" if i < 72 else "test" for i in range(rows)]
    return features, labels, splits


def write_csv(path, features, labels, splits):
    lines = ["image,label,split," + ",".join(f"f{j}" for j in range(features.shape[1]))]
    for row, values in enumerate(features):
        lines.append(f"row{row},{labels[row]},{splits[row]}," + ",".join(repr(float(v)) for v in values))
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("method", ["logreg", "linear"])
def test_a_probe_trained_from_numpy_is_the_clis(tmp_path, method):
    features, labels, splits = feature_rows()
    csv = tmp_path / "features.csv"
    write_csv(csv, features, labels, splits)
    cli_probe = tmp_path / "cli.probe"
    extra = ["--C", "0.1"] if method == "logreg" else ["--lr", "0.003"]
    run_cli("probe", "train", "--features", csv, "--shots", "0", "--seeds", "1", "--method", method,
            "--out", cli_probe, *extra)

    given = dict(C=0.1) if method == "logreg" else dict(learning_rate=0.003)
    ours = dermlens.probe.train(features, labels, splits, shots=0, method=method, **given)
    theirs = dermlens.probe.load(cli_probe)
    assert ours.classes == theirs.classes == sorted(CLASSES)
    np.testing.assert_allclose(ours.weights, theirs.weights, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(features), theirs.predict_proba(features), rtol=0, atol=1e-12)
    assert ours.conformal_sets(features) == theirs.conformal_sets(features)


def test_cross_validated_c_and_the_clis_predictions_agree(tmp_path):
    features, labels, splits = feature_rows(seed=3)
    csv = tmp_path / "features.csv"
    write_csv(csv, features, labels, splits)
    cli_probe = tmp_path / "cli.probe"
    run_cli("probe", "train", "--features", csv, "--shots", "8", "--seeds", "1", "--out", cli_probe)
    ours = dermlens.probe.train(features, labels, splits, shots=8)
    assert ours.C == dermlens.probe.load(cli_probe).C

    predicted = json.loads(run_cli("probe", "predict", "--probe", cli_probe, "--features", csv, "--candidates",
                                   "conformal", "--json").stdout)
    assert [row["candidates"] for row in predicted["predictions"]] == ours.conformal_sets(features)
    probabilities = ours.predict_proba(features)
    for row, item in enumerate(predicted["predictions"]):
        for c, name in enumerate(ours.classes):
            assert item["probabilities"][name] == pytest.approx(probabilities[row, c], abs=1e-12)


def test_features_are_read_in_place_whatever_their_strides():
    features, labels, splits = feature_rows(dimension=24)
    strided = features[:, ::2]  # a view: every other column
    assert not strided.flags.c_contiguous and strided.base is features
    a = dermlens.probe.train(strided, labels, splits, shots=0, C=1.0)
    b = dermlens.probe.train(np.ascontiguousarray(strided), labels, splits, shots=0, C=1.0)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.predict_proba(strided), b.predict_proba(np.asfortranarray(strided)))
    as_float64 = dermlens.probe.train(strided.astype(np.float64), labels, splits, shots=0, C=1.0)
    np.testing.assert_array_equal(a.weights, as_float64.weights)


def test_probe_files_round_trip_and_bad_ones_are_refused(tmp_path):
    features, labels, splits = feature_rows()
    probe = dermlens.probe.train(features, labels, splits, shots=0, C=1.0, label_set=None)
    probe.save(tmp_path / "p.probe")
    again = dermlens.probe.load(tmp_path / "p.probe")
    np.testing.assert_array_equal(again.predict_proba(features), probe.predict_proba(features))
    assert again.calibration["alpha"] == 0.1 and again.calibration["rows"] == 27
    assert probe.top_k(features[:2], 2)[0][0] == probe.predict(features[:2])[0]

    (tmp_path / "bad.probe").write_text("{\"format\": \"nonsense\"}")
    with pytest.raises(dermlens.InvalidInput, match="bad.probe"):
        dermlens.probe.load(tmp_path / "bad.probe")
    with pytest.raises(dermlens.InvalidInput):
        probe.predict_proba(features[:, :5])
    with pytest.raises(dermlens.InvalidArgument) as raised:
        dermlens.probe.train(features, labels[:-1], splits)
    assert raised.value.field == "labels"
