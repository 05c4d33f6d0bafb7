"""Reward functions in TRL's shape, `(prompts, completions, **kwargs) -> list[float | None]`, for
`GRPOTrainer(reward_funcs=[...])` (examples/training/trl_grpo_skinr1.py). TRL passes the
dataset's other columns as keyword lists, one value per completion; these read the
`ground_truth` column (the item's JSON) that `dermlens train-data export --format trl` writes.
Completions may be text or conversations (the last message's text). A row whose item is for
another reward gets None, which TRL leaves out of that reward's sum.

Skin-R1's R_total is the sum of `skinr1_format`, `skinr1_gran` and `skinr1_malignancy` (three
reward functions of weight 1, as the authors ran it, so that TRL logs each); `skinr1` is the total."""

import json
from typing import Any, Optional, Sequence

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


def _rewards(reward: str, part: Optional[str], completions, kwargs) -> list:
    out = []
    for completion, item in zip(completions, _items(kwargs, len(completions))):
        if REWARD_OF_TASK.get(item.get("task")) != reward:
            out.append(None)
            continue
        result = score(reward, _text(completion), item)
        out.append(float(result["parts"][part] if part else result["score"]))
    return out


def skinr1(prompts: Sequence[Any], completions: Sequence[Any], **kwargs) -> list:
    """Skin-R1's R_total (paper 002, eqs. 5-8) per completion, in [0, 2]."""
    return _rewards("skinr1", None, completions, kwargs)


def skinr1_format(prompts: Sequence[Any], completions: Sequence[Any], **kwargs) -> list:
    """Skin-R1's R_format: 1 for the prompt's tag structure, else 0."""
    return _rewards("skinr1", "format", completions, kwargs)


def skinr1_gran(prompts: Sequence[Any], completions: Sequence[Any], **kwargs) -> list:
    """Skin-R1's R_gran: 0.75 times the chosen option's depth weight on the truth's taxonomy path."""
    return _rewards("skinr1", "gran", completions, kwargs)


def skinr1_malignancy(prompts: Sequence[Any], completions: Sequence[Any], **kwargs) -> list:
    """Skin-R1's R_malignancy: 0.25 when the benign / malignant / precancerous reading agrees."""
    return _rewards("skinr1", "malignancy", completions, kwargs)


def skinflow_topk(prompts: Sequence[Any], completions: Sequence[Any], **kwargs) -> list:
    """SkinFlow's positional top-K reward (paper 003, eqs. 7-8) per completion, in [0, 1]."""
    return _rewards("skinflow-topk", None, completions, kwargs)


def skinflow_caption(prompts: Sequence[Any], completions: Sequence[Any], **kwargs) -> list:
    """SkinFlow's caption reward (paper 003, eq. 6), judge-free, per completion, on 0..10."""
    return _rewards("skinflow-caption", None, completions, kwargs)
