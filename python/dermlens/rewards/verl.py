"""The reward function VERL calls (`custom_reward_function.path` / `.name = compute_score`; see
examples/training/verl_reward.py), once per completion, with the row's `data_source`,
`reward_model.ground_truth` and `extra_info` as `dermlens train-data export --format verl` writes them."""

import json
from typing import Any, Mapping, Optional, Union

from . import REWARD_OF_TASK, score

DATA_SOURCE_PREFIX = "dermlens/"


def compute_score(data_source: str, solution_str: str, ground_truth: Union[str, Mapping[str, Any]],
                  extra_info: Optional[Mapping[str, Any]] = None) -> dict:
    """VERL's reward of one completion: {"score": reward, <part>: value, ...} (VERL logs the parts).

    data_source "dermlens/<reward>" (skinr1, skinflow-topk, skinflow-caption) picks the reward;
    another data source falls back on the item's task (mcq, topk, caption). ground_truth is the
    item the export wrote (its JSON text, or the dict). A malformed completion scores 0; a bad
    item raises dermlens.InvalidArgument naming the field."""
    item = json.loads(ground_truth) if isinstance(ground_truth, str) else dict(ground_truth)
    if data_source.startswith(DATA_SOURCE_PREFIX):
        reward = data_source[len(DATA_SOURCE_PREFIX):]
    else:
        reward = REWARD_OF_TASK.get(item.get("task", ""))
    if reward is None:
        raise ValueError(f"data_source {data_source!r}: not dermlens/<reward>, and the item's task "
                         f"{item.get('task')!r} has no reward (mcq, topk or caption)")
    result = score(reward, solution_str, item)
    return {"score": result["score"], **result["parts"]}
