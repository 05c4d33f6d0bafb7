"""dermlens.rewards: the scores of `dermlens reward score` for the same items and completions, GRPO's
advantages against NumPy, and the trainer entry points called exactly as VERL and TRL call them
(examples/training/check_reward_calls.py) on rows `dermlens train-data export` wrote."""

import json
import subprocess
import sys

import numpy as np
import pytest

import dermlens
from conftest import SOURCE_DIR, run_cli
from dermlens.rewards.verl import compute_score


@pytest.fixture(scope="module")
def manifest(lesions, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    labels = ["melanoma", "nevus", "basal_cell_carcinoma"]
    lines = ["image,label"] + [f"{lesion},{label}" for lesion, label in zip(lesions, labels)]
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder / "manifest.csv"


def export(manifest, task, trainer):
    out = manifest.parent / f"{task}.{trainer}.jsonl"
    run_cli("train-data", "export", "--task", task, "--format", trainer, "--manifest", manifest,
            "--label-set", "isic9class", "--out", out)
    return out


def replies(item):
    if item["task"] == "mcq":
        return [f"<thinking>x</thinking> <final diagnosis>{item['correct']}, {item['malignancy']}</final diagnosis>",
                "<thinking>x</thinking> <final diagnosis>benign</final diagnosis>", "no tags at all"]
    return ['<answer>{"top6_diseases": [{"disease": "psoriasis"}, {"disease": "%s"}]}</answer>' % item["truth"],
            "<answer>not json</answer>"]


@pytest.mark.parametrize("task,reward", [("mcq", "skinr1"), ("topk", "skinflow-topk")])
def test_scores_are_the_clis(manifest, task, reward, tmp_path):
    rows = [json.loads(line) for line in export(manifest, task, "verl").read_text().splitlines()]
    items = [json.loads(row["reward_model"]["ground_truth"]) for row in rows]
    completions = [(i, reply) for i, item in enumerate(items) for reply in replies(item)]
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(item) + "\n" for item in items))
    (tmp_path / "completions.jsonl").write_text(
        "".join(json.dumps({"completion": reply, "item": i}) + "\n" for i, reply in completions))
    printed = run_cli("reward", "score", "--reward", reward, "--items", tmp_path / "items.jsonl",
                      "--completions", tmp_path / "completions.jsonl").stdout
    theirs = [json.loads(line) for line in printed.splitlines() if line.startswith("{")]
    assert len(theirs) == len(completions)
    for (i, reply), cli in zip(completions, theirs):
        ours = dermlens.rewards.score(reward, reply, items[i])
        assert ours["score"] == cli["score"]
        assert ours["detail"] == cli["detail"]
        verl = compute_score(rows[i]["data_source"], reply, rows[i]["reward_model"]["ground_truth"],
                                                   rows[i]["extra_info"])
        assert verl["score"] == cli["score"]


@pytest.mark.parametrize("task", ["mcq", "topk"])
def test_the_trainer_entry_points_are_called_as_verl_and_trl_call_them(manifest, task):
    checked = subprocess.run([sys.executable, str(SOURCE_DIR / "examples" / "training" / "check_reward_calls.py"),
                              "--verl", str(export(manifest, task, "verl")), "--trl", str(export(manifest, task, "trl"))],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_trl_functions_sum_to_r_total_and_skip_other_tasks():
    item = dermlens.rewards.skinr1_item("melanoma", ["melanocytic_nevus", "melanoma", "psoriasis", "melanocytic_lesion"])
    reply = f"<thinking>x</thinking> <final diagnosis>{item['correct']}, malignant</final diagnosis>"
    kwargs = dict(ground_truth=[json.dumps(item), json.dumps(dermlens.rewards.topk_item("melanoma"))])
    completions = [[{"role": "assistant", "content": reply}]] * 2
    from dermlens.rewards import trl
    parts = [f([], completions, **kwargs) for f in (trl.skinr1_format, trl.skinr1_gran, trl.skinr1_malignancy)]
    assert sum(p[0] for p in parts) == pytest.approx(trl.skinr1([], completions, **kwargs)[0])
    assert trl.skinr1([], completions, **kwargs)[0] == pytest.approx(2.0)
    assert all(p[1] is None for p in parts)


def test_group_advantages_match_numpy():
    rewards = np.random.default_rng(2).random(12)
    ours = np.array(dermlens.rewards.group_advantages(list(rewards), 4, epsilon=0.0))
    groups = rewards.reshape(3, 4)
    expected = (groups - groups.mean(axis=1, keepdims=True)) / groups.std(axis=1, ddof=1, keepdims=True)
    np.testing.assert_allclose(ours, expected.ravel(), atol=1e-12)
    assert dermlens.rewards.group_advantages([1.0, 1.0], 2) == [0.0, 0.0]
    with pytest.raises(dermlens.InvalidArgument):
        dermlens.rewards.group_advantages([1.0, 2.0, 3.0], 2)
