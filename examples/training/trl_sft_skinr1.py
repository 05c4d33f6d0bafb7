"""Skin-R1 stage 1 (paper 002 section 3.1, appendix C): supervised fine-tuning on the reasoning
trajectories that `dermlens train-data export --task sft --format trl` writes.

    accelerate launch trl_sft_skinr1.py --data sft.jsonl --model Qwen/Qwen2.5-VL-7B-Instruct --out sft-out
"""
import argparse

from datasets import Image, Sequence, load_dataset
from peft import LoraConfig
from trl import SFTConfig, SFTTrainer


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="train file of the sft export (val: the .val file beside it)")
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=float, default=4)        # appendix C
    parser.add_argument("--lr", type=float, default=3e-5)         # appendix C
    args = parser.parse_args()

    data = load_dataset("json", data_files=args.data, split="train")
    data = data.cast_column("images", Sequence(Image()))  # the export stores image paths
    config = SFTConfig(
        output_dir=args.out,
        num_train_epochs=args.epochs,
        learning_rate=args.lr,
        per_device_train_batch_size=1,
        gradient_accumulation_steps=16,   # total batch 16
        max_length=None,                  # never cut image tokens
        bf16=True,
        gradient_checkpointing=True,
    )
    lora = LoraConfig(r=64, lora_alpha=32, lora_dropout=0.1, target_modules="all-linear", task_type="CAUSAL_LM")
    SFTTrainer(model=args.model, args=config, train_dataset=data, peft_config=lora).train()


if __name__ == "__main__":
    main()
