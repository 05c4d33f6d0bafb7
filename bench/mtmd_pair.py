#!/usr/bin/env python3
"""Paired comparison: `dermlens diagnose --strategy direct` against llama.cpp's `llama-mtmd-cli`.

Both run the same model pair, image, thread count and context on a prompt of the same shape
(the direct strategy's preamble, question and lettered options, from data/prompts/), dermlens
scoring the option letter in one forward step and mtmd-cli generating one token. After one
unrecorded warm-up run of each (page cache; dermlens's one-time `auto` measurement), runs
alternate (dermlens, mtmd-cli, mtmd-cli, dermlens, ...) so that a change of load on a shared
machine hits both alike; each figure is the median over runs, and the ratios dermlens /
mtmd-cli are the medians of the per-pair ratios. Figures: image encode (vision encoder +
projector), prompt (text and image tokens through the text model, plus the one answer step),
wall (the whole process: loading, encoding, answering) and peak RSS.

Builds nothing: llama-mtmd-cli is the binary the parity tests build from the pinned llama.cpp
(`cmake --build build --target llama-mtmd-cli`), dermlens the CLI.

  bench/mtmd_pair.py --preset tiny --pairs 3
  bench/mtmd_pair.py --preset gemma3-4b --type q4_k_m --mmproj-type q8_0 --pairs 3 --out pair.json
  bench/mtmd_pair.py --model m.gguf --mmproj p.gguf -- --vision-flash-attn off   (extra diagnose options)
  bench/mtmd_pair.py --preset gemma3-4b ... --mtmd-args "-fa off"                 (extra mtmd-cli options)
"""
import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time

from diagnose_breakdown import REPO, add_model_arguments, default_image, generated_model

LABELS = ["melanoma", "nevus", "seborrheic keratosis", "basal cell carcinoma", "actinic keratosis",
          "dermatofibroma", "vascular lesion"]
FIGURES = ["encode_ms", "prompt_ms", "wall_ms", "peak_rss_mib", "prompt_tokens"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dermlens", default=str(REPO / "build/bin/dermlens"), help="(default: %(default)s)")
    parser.add_argument("--mtmd-cli", default=str(REPO / "build/bin/llama-mtmd-cli"), help="(default: %(default)s)")
    add_model_arguments(parser)
    parser.add_argument("--image", default=None, help="image (default: the first shared melanoma image)")
    parser.add_argument("--pairs", type=int, default=3, help="alternated pairs of runs (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="unrecorded runs of each first: page cache, dermlens's auto decision "
                             "(default: %(default)s)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (default: %(default)s)")
    parser.add_argument("--ctx", type=int, default=4096, help="context size of both (default: %(default)s)")
    parser.add_argument("--batch", type=int, default=512, help="logical batch of both (default: %(default)s)")
    parser.add_argument("--out", help="also write every run, the medians and the ratios to this JSON file")
    parser.add_argument("--mtmd-args", default="",
                        help="further llama-mtmd-cli options, one string (e.g. \"-fa off\": its attention path)")
    parser.add_argument("extra", nargs="*", help="further diagnose options, after --")
    return parser.parse_args()


def mtmd_prompt():
    """The direct strategy's user turn (data/prompts/), options lettered as dermlens letters them."""
    prompts = REPO / "data/prompts"
    options = "\n".join(f"({chr(ord('A') + i)}) {label}" for i, label in enumerate(LABELS))
    question = (prompts / "question.txt").read_text().format(context="", guide="", options=options)
    return (prompts / "preamble.txt").read_text().strip() + "\n" + question.strip()


def timed(command):
    """Runs a command under /usr/bin/time; returns (stdout, stderr, wall ms, peak RSS MiB)."""
    start = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-f", "peak_rss_kib=%M"] + command, capture_output=True, text=True)
    wall_ms = (time.monotonic() - start) * 1000
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    rss = int(re.findall(r"peak_rss_kib=(\d+)", done.stderr)[-1]) / 1024
    return done.stdout, done.stderr, wall_ms, rss


def run_dermlens(args, model, mmproj, image):
    command = [args.dermlens, "diagnose", "--json", "--strategy", "direct", "-m", str(model), "--mmproj", str(mmproj),
               "--labels", ",".join(LABELS), "-t", str(args.threads), "--ctx", str(args.ctx), "--batch",
               str(args.batch)] + args.extra + [image]
    out, _, wall_ms, rss = timed(command)
    report = json.loads(out)[0]
    timings = report["timings"]
    return {"encode_ms": timings["encode_ms"], "prompt_ms": timings["decide_ms"], "wall_ms": wall_ms,
            "peak_rss_mib": rss, "prompt_tokens": timings["prompt_tokens"], "settings": report.get("settings", {})}


def run_mtmd(args, model, mmproj, image):
    command = [args.mtmd_cli, "-m", str(model), "--mmproj", str(mmproj), "--image", image, "-p", mtmd_prompt(),
               "-n", "1", "--temp", "0", "--seed", "0", "-t", str(args.threads), "-c", str(args.ctx),
               "-b", str(args.batch), "-v"] + args.mtmd_args.split()  # -v: timings are logged only at full verbosity
    _, err, wall_ms, rss = timed(command)
    encode = re.search(r"(?:mtmd batch encoding done|slice encoded) in (\d+) ms", err)
    prompt = re.search(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens", err)
    answer = re.search(r"\beval time =\s*([\d.]+) ms", err.replace("prompt eval time", ""))
    if not (encode and prompt):
        sys.exit(f"llama-mtmd-cli printed no timings:\n{err[-4000:]}")
    # llama.cpp counts the image tokens' decode in the prompt; the one generated token is the answer step.
    prompt_ms = float(prompt.group(1)) + (float(answer.group(1)) if answer else 0.0)
    return {"encode_ms": float(encode.group(1)), "prompt_ms": prompt_ms, "wall_ms": wall_ms, "peak_rss_mib": rss,
            "prompt_tokens": int(prompt.group(2))}


def summary(pairs):
    rows = {}
    for figure in FIGURES:
        ours = statistics.median(p["dermlens"][figure] for p in pairs)
        theirs = statistics.median(p["mtmd"][figure] for p in pairs)
        ratio = statistics.median(p["dermlens"][figure] / p["mtmd"][figure] for p in pairs if p["mtmd"][figure])
        rows[figure] = {"dermlens": ours, "mtmd_cli": theirs, "ratio": ratio}
    return rows


def main():
    args = parse_args()
    for binary in (args.dermlens, args.mtmd_cli):
        if not pathlib.Path(binary).exists():
            sys.exit(f"{binary} not found: build it (cmake --build build --target dermlens llama-mtmd-cli)")
    model, mmproj = (args.model, args.mmproj) if args.model else generated_model(args)
    image = args.image or default_image()
    for _ in range(args.warmup):
        run_dermlens(args, model, mmproj, image)
        run_mtmd(args, model, mmproj, image)
    pairs = []
    for index in range(args.pairs):
        order = ["dermlens", "mtmd"] if index % 2 == 0 else ["mtmd", "dermlens"]
        pair = {}
        for who in order:
            pair[who] = (run_dermlens if who == "dermlens" else run_mtmd)(args, model, mmproj, image)
            print(f"pair {index + 1} {who}: " + ", ".join(f"{f} {pair[who][f]:.1f}" for f in FIGURES), file=sys.stderr)
        pairs.append(pair)

    rows = summary(pairs)
    settings = pairs[0]["dermlens"]["settings"]
    print(f"dermlens: vision flash attention {settings.get('vision_flash_attention_why', '?')}; "
          f"text {settings.get('flash_attention_why', '?')}")
    print(f"{args.pairs} alternated pairs, {args.threads} threads, medians\n")
    print("| | dermlens | llama-mtmd-cli | dermlens / mtmd-cli |\n| --- | --- | --- | --- |")
    for figure, row in rows.items():
        print(f"| {figure} | {row['dermlens']:.1f} | {row['mtmd_cli']:.1f} | {row['ratio']:.2f} |")
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps({"model": str(model), "mmproj": str(mmproj), "image": image,
                                                      "threads": args.threads, "pairs": pairs, "medians": rows},
                                                     indent=2))


if __name__ == "__main__":
    main()
