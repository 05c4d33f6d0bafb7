#!/bin/sh
# SkinFlow with VERL (paper 003 section 4.1.1): GRPO on a caption or top-K export of
# `dermlens train-data export --format verl`, rewarded by dermlens (verl_reward.py).
#   verl_grpo_skinflow.sh TRAIN.jsonl VAL.jsonl MODEL [LR]
# Stage I (caption): LR 1e-6; stage II (top-K), from the stage-I checkpoint: LR 5e-7 (the paper's).
# The paper's objective has no KL term: use_kl_loss=False. G, batch and lengths are not in the paper.
set -eu
train=$1 val=$2 model=$3 lr=${4:-5e-7}
here=$(cd "$(dirname "$0")" && pwd)
exec python3 -m verl.trainer.main_ppo \
  algorithm.adv_estimator=grpo \
  algorithm.use_kl_in_reward=False \
  data.train_files="$train" data.val_files="$val" \
  data.prompt_key=prompt data.image_key=images \
  data.max_prompt_length=1024 data.max_response_length=2560 \
  data.train_batch_size=32 \
  actor_rollout_ref.model.path="$model" \
  actor_rollout_ref.actor.optim.lr="$lr" \
  actor_rollout_ref.actor.use_kl_loss=False \
  actor_rollout_ref.actor.loss_agg_mode=seq-mean-token-mean \
  actor_rollout_ref.actor.clip_ratio=0.2 \
  actor_rollout_ref.rollout.name=vllm \
  actor_rollout_ref.rollout.n=8 \
  actor_rollout_ref.rollout.temperature=1.0 \
  custom_reward_function.path="$here/verl_reward.py" \
  custom_reward_function.name=compute_score \
  trainer.total_epochs=1
