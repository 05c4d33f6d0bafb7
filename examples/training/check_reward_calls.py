"""Calls dermlens's trainer entry points exactly as the trainers do, on rows that
`dermlens train-data export` wrote, and checks the results:

  VERL (verl/workers/reward_manager/naive.py): for each row,
      compute_score(data_source=row["data_source"], solution_str=<decoded response>,
                    ground_truth=row["reward_model"]["ground_truth"], extra_info=row["extra_info"])
      -> a float, or a dict with "score" (other keys logged).
  TRL (trl/trainer/grpo_trainer.py _calculate_rewards): for each reward function,
      f(prompts=[...], completions=[...], completion_ids=[...], **{column: [one per completion]},
        trainer_state=..., log_extra=..., log_metric=...)
      with every dataset column but prompt repeated per generation -> list[float | None], one per completion.
      Conversational datasets pass completions as [[{"role": "assistant", "content": text}], ...].

    check_reward_calls.py --verl mcq.verl.jsonl --trl mcq.trl.jsonl [--group-size 4]
Prints a JSON summary; exits 1 on any mismatch.
"""
import argparse
import json
import math
import sys


def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def perfect_reply(item):
    if item["task"] == "mcq":
        return (f"<thinking>x</thinking> <final diagnosis>{item['correct']}, {item['malignancy']}"
                "</final diagnosis>")
    if item["task"] == "topk":
        return '<answer>{"top6_diseases": [{"disease": "%s"}]}</answer>' % item["truth"]
    return json.dumps(item["reference"])


def check_verl(path, problems):
    from dermlens.rewards.verl import compute_score

    scores = []
    for row in rows(path):
        item = json.loads(row["reward_model"]["ground_truth"])
        for reply, best in ((perfect_reply(item), True), ("no answer at all", False)):
            result = compute_score(data_source=row["data_source"], solution_str=reply,
                                   ground_truth=row["reward_model"]["ground_truth"], extra_info=row["extra_info"])
            score = result["score"] if isinstance(result, dict) else result
            if not isinstance(score, float) or math.isnan(score):
                problems.append(f"verl: score {score!r} is not a float")
            if best and score <= 0:
                problems.append(f"verl: a perfect reply scored {score} on {item}")
            scores.append(score)
    return scores


def check_trl(path, group_size, problems):
    from dermlens.rewards import trl as rewards

    data = rows(path)
    columns = {key: [row[key] for row in data for _ in range(group_size)] for key in data[0] if key != "prompt"}
    prompts = [row["prompt"] for row in data for _ in range(group_size)]
    completions = [[{"role": "assistant", "content": perfect_reply(json.loads(gt))}] for gt in columns["ground_truth"]]
    kwargs = dict(columns, completion_ids=[[0]] * len(prompts), trainer_state=None,
                  log_extra=lambda column, values: None, log_metric=lambda name, value: None)
    task = json.loads(data[0]["ground_truth"])["task"]
    functions = {"mcq": [rewards.skinr1_format, rewards.skinr1_gran, rewards.skinr1_malignancy],
                 "topk": [rewards.skinflow_topk], "caption": [rewards.skinflow_caption]}[task]
    totals = [0.0] * len(prompts)
    for function in functions:
        values = function(prompts, completions, **kwargs)
        if not isinstance(values, list) or len(values) != len(prompts):
            problems.append(f"trl: {function.__name__} returned {type(values).__name__} of the wrong length")
            continue
        for i, value in enumerate(values):
            if value is not None and not isinstance(value, float):
                problems.append(f"trl: {function.__name__}[{i}] = {value!r} is not a float")
            totals[i] += value or 0.0
    if any(t <= 0 for t in totals):
        problems.append("trl: a perfect completion scored 0")
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verl")
    parser.add_argument("--trl")
    parser.add_argument("--group-size", type=int, default=4)
    args = parser.parse_args()
    problems, summary = [], {}
    if args.verl:
        summary["verl"] = check_verl(args.verl, problems)
    if args.trl:
        summary["trl"] = check_trl(args.trl, args.group_size, problems)
    summary["problems"] = problems
    print(json.dumps(summary))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
