"""dermlens.kb answers as `dermlens kb ... --json` does; dermlens.metrics agrees with scikit-learn."""

import json

import numpy as np
import pytest
from sklearn import metrics as sk

import dermlens
from conftest import run_cli


@pytest.fixture(scope="module")
def kb():
    return dermlens.kb.load()


def test_show_resolve_and_relation_are_the_clis(kb):
    assert kb.show("melanoma") == json.loads(run_cli("kb", "show", "melanoma", "--json").stdout)
    assert kb.resolve("basal_cell_carcinoma", label_set="isic9class") == kb.resolve("basal cell carcinoma")
    cli = json.loads(run_cli("kb", "relation", "melanoma", "melanocytic lesion", "--json").stdout)
    ours = kb.relation("melanoma", "melanocytic lesion")
    assert ours["relation"] == cli["relation"] and ours["levels"] == cli["levels"]
    assert ours["predicted"] == cli["predicted"]["id"]


def test_label_sets_taxonomy_and_ddx(kb):
    assert "isic9class" in kb.label_sets()
    labels = kb.label_set("isic9class")["labels"]
    assert all(kb.resolve(item["label"], label_set="isic9class") == item["condition"] for item in labels)
    melanoma = kb.resolve("melanoma")
    assert kb.path_to_root(melanoma)[0] == melanoma and kb.parent(melanoma) == kb.path_to_root(melanoma)[1]
    assert kb.malignancy(melanoma) == "malignant"
    assert kb.ddx("melanoma") == kb.show("melanoma")["ddx"]
    neighbour = kb.ddx("melanoma")[0]
    assert kb.resolve_ddx_neighbor("melanoma", [neighbour]) == neighbour
    assert kb.check() == []
    with pytest.raises(dermlens.InvalidArgument, match="no-such-disease"):
        kb.resolve("no-such-disease")


def test_metrics_agree_with_scikit_learn():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 4, 200)
    probabilities = rng.dirichlet(np.ones(4), 200)
    predicted = probabilities.argmax(axis=1)
    m = dermlens.metrics
    assert m.accuracy(truth, predicted) == pytest.approx(sk.accuracy_score(truth, predicted), abs=1e-12)
    assert m.macro_f1(truth, predicted) == pytest.approx(sk.f1_score(truth, predicted, average="macro"), abs=1e-12)
    assert m.balanced_accuracy(truth, predicted) == pytest.approx(sk.balanced_accuracy_score(truth, predicted), abs=1e-12)
    assert m.roc_auc_ovr_macro(truth, probabilities) == pytest.approx(
        sk.roc_auc_score(truth, probabilities, multi_class="ovr", average="macro"), abs=1e-12)
    assert m.top_k_accuracy(truth, probabilities, 2) == pytest.approx(
        sk.top_k_accuracy_score(truth, probabilities, k=2), abs=1e-12)
    np.testing.assert_array_equal(m.confusion_matrix(truth, predicted, 4),
                                  sk.confusion_matrix(truth, predicted, labels=range(4)))
    sets = [[int(c)] for c in predicted]
    assert m.set_coverage(truth, sets) == m.accuracy(truth, predicted)
    with pytest.raises(dermlens.InvalidArgument):
        m.accuracy([0, 1], [0])


def test_free_diagnoses_are_graded_clinically():
    kb = dermlens.kb.load()
    graded = dermlens.metrics.grade_diagnosis(kb, "melanoma", "melanoma", "isic9class")
    assert graded["grade"] == "exact" and graded["correct"]
    assert not dermlens.metrics.grade_diagnosis(kb, "psoriasis", "melanoma", "isic9class")["correct"]
