"""The reward function VERL calls (`custom_reward_function.path` / `.name = compute_score`):
one completion at a time, with the row's `data_source`, `reward_model.ground_truth` and
`extra_info` as `dermlens train-data export --format verl` writes them (examples/training/)."""

import json
from typing import Any, Mapping, Optional, Union

from . import REWARD_OF_TASK, score


def compute_score(data_source: str, solution_str: str, ground_truth: Union[str, Mapping[str, Any]],
                  extra_info: Optional[Mapping[str, Any]] = None) -> dict:
    """VERL's reward: {"score": reward, <part>: value, ...} for one completion.

    ground_truth is the item the export wrote (a dict, or its JSON text); its "task" picks the
    reward (mcq: Skin-R1, topk: SkinFlow top-K, caption: SkinFlow caption, judge-free), unless
    extra_info names one as "reward". data_source is not read: the item says everything."""
    item = json.loads(ground_truth) if isinstance(ground_truth, str) else dict(ground_truth)
    reward = (extra_info or {}).get("reward") or REWARD_OF_TASK.get(item.get("task", ""))
    if reward is None:
        raise ValueError(f"ground_truth: task {item.get('task')!r} has no reward (mcq, topk or caption)")
    result = score(reward, solution_str, item)
    return {"score": result["score"], **result["parts"]}
