"""Training rewards without a model (docs/rewards.md): Skin-R1's R_total (`skinr1`), SkinFlow's
positional top-K (`skinflow_topk`) and caption (`skinflow_caption`) rewards, any of them by name
(`score`), the items they read (`skinr1_item`, `topk_item`, `caption_item`), and GRPO's
`group_advantages` and `grpo_objective`. `dermlens.rewards.verl` and `dermlens.rewards.trl` give
them in the call shapes of VERL and TRL."""

from .._dermlens.rewards import (
    caption_item,
    group_advantages,
    grpo_objective,
    score,
    skinflow_caption,
    skinflow_topk,
    skinr1,
    skinr1_format,
    skinr1_item,
    topk_item,
)

# The reward of each item task the exports write.
REWARD_OF_TASK = {"mcq": "skinr1", "topk": "skinflow-topk", "caption": "skinflow-caption"}

__all__ = [
    "REWARD_OF_TASK",
    "caption_item",
    "group_advantages",
    "grpo_objective",
    "score",
    "skinflow_caption",
    "skinflow_topk",
    "skinr1",
    "skinr1_format",
    "skinr1_item",
    "topk_item",
]
