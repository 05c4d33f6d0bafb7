"""Reward functions in TRL's shape, `(prompts, completions, **kwargs) -> list[float]`, for
`GRPOTrainer(reward_funcs=[...])`: TRL passes the dataset's other columns as keyword lists, and
these read the item column that `dermlens train-data export --format trl` writes
(examples/training/). Completions may be plain text or conversations (the last message's text)."""

import json
from typing import Any, Sequence

from . import REWARD_OF_TASK, score

ITEM_COLUMN = "ground_truth"


def _text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    content = completion[-1]["content"]  # conversational: [{"role": "assistant", "content": ...}]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if part.get("type") == "text")


def _items(kwargs, count):
    column = kwargs.get(ITEM_COLUMN)
    if column is None or len(column) != count:
        raise ValueError(f"the dataset needs a '{ITEM_COLUMN}' column with one item per completion "
                         "(dermlens train-data export --format trl writes it)")
    return [json.loads(item) if isinstance(item, str) else item for item in column]


def _scores(reward, completions, kwargs):
    items = _items(kwargs, len(completions))
    return [score(reward or REWARD_OF_TASK[item["task"]], _text(completion), item)["score"]
            for completion, item in zip(completions, items)]


def skinr1(prompts: Sequence[Any], completions: Sequence[Any], **kwargs) -> list[float]:
    """Skin-R1's R_total (paper 002, eqs. 5-8) per completion, in [0, 2]."""
    return _scores("skinr1", completions, kwargs)


def skinflow_topk(prompts: Sequence[Any], completions: Sequence[Any], **kwargs) -> list[float]:
    """SkinFlow's positional top-K reward (paper 003, eqs. 7-8) per completion, in [0, 1]."""
    return _scores("skinflow-topk", completions, kwargs)


def skinflow_caption(prompts: Sequence[Any], completions: Sequence[Any], **kwargs) -> list[float]:
    """SkinFlow's caption reward (paper 003, eq. 6), judge-free, per completion, on 0..10."""
    return _scores("skinflow-caption", completions, kwargs)


def by_task(prompts: Sequence[Any], completions: Sequence[Any], **kwargs) -> list[float]:
    """The reward each item's task asks for (mcq, topk, caption): one function for mixed data."""
    return _scores(None, completions, kwargs)
