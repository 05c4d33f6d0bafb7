"""VERL's custom reward function file (custom_reward_function.path=examples/training/verl_reward.py):
dermlens's rewards, chosen by the row's data_source (dermlens/skinr1, dermlens/skinflow-topk,
dermlens/skinflow-caption) and reading reward_model.ground_truth as `dermlens train-data export
--format verl` wrote it. VERL imports this file by path, so it re-exports the package's function."""
from dermlens.rewards.verl import compute_score

__all__ = ["compute_score"]
