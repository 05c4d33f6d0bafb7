"""Skin-R1 stage 2 (paper 002 section 3.2, appendix C): GRPO on the multiple-choice questions that
`dermlens train-data export --task mcq --format trl` writes, rewarded by dermlens's R_format, R_gran
and R_malignancy (eqs. 5-8), three reward functions summed with weight 1 as in the authors' trainer.
Each reads the `ground_truth` column of the export (TRL passes every dataset column as a keyword).

    accelerate launch trl_grpo_skinr1.py --data mcq.jsonl --model sft-out --out grpo-out
"""
import argparse

from datasets import Image, Sequence, load_dataset
from dermlens.rewards import trl as rewards
from peft import LoraConfig
from trl import GRPOConfig, GRPOTrainer

REWARD_FUNCS = [rewards.skinr1_format, rewards.skinr1_gran, rewards.skinr1_malignancy]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--lr", type=float, default=1e-5)        # appendix C
    parser.add_argument("--beta", type=float, default=0.04)      # TRL 0.14's default, used by the authors
    parser.add_argument("--group-size", type=int, default=4)     # K, appendix C
    args = parser.parse_args()

    data = load_dataset("json", data_files=args.data, split="train")
    data = data.cast_column("images", Sequence(Image()))
    config = GRPOConfig(
        output_dir=args.out,
        learning_rate=args.lr,
        num_train_epochs=1,
        per_device_train_batch_size=2,
        gradient_accumulation_steps=8,        # total batch 16
        num_generations=args.group_size,
        temperature=1.0,
        beta=args.beta,
        max_completion_length=1024,
        reward_weights=[1.0] * len(REWARD_FUNCS),
        lr_scheduler_type="cosine",
        warmup_ratio=0.03,
        bf16=True,
        gradient_checkpointing=True,
    )
    lora = LoraConfig(r=64, lora_alpha=32, lora_dropout=0.1, target_modules="all-linear", task_type="CAUSAL_LM")
    GRPOTrainer(model=args.model, reward_funcs=REWARD_FUNCS, args=config, train_dataset=data,
                peft_config=lora).train()


if __name__ == "__main__":
    main()
