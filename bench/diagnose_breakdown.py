#!/usr/bin/env python3
"""Time breakdown of `dermlens diagnose`: image encode, describe, decide, total and peak RSS.

Runs the CLI several times (each run a fresh process: load, encode, answer) and prints every run
and the median of each figure. The model is either given (--model/--mmproj) or generated with
`dermlens dev make-test-model` (--preset tiny | gemma3-4b | qwen2.5-vl-7b, random weights).

  bench/diagnose_breakdown.py --preset tiny --runs 5
  bench/diagnose_breakdown.py --preset gemma3-4b --type q4_k_m --mmproj-type q8_0 --runs 3
  bench/diagnose_breakdown.py --model medgemma.gguf --mmproj mmproj.gguf -- --vision-flash-attn on
"""
import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_IMAGE = REPO.parent / "shared/data/images/isic9class/melanoma"
LABELS = "melanoma,nevus,seborrheic keratosis,basal cell carcinoma,actinic keratosis"
FIGURES = [  # (column, unit, how to read it from one run's JSON report)
    ("image encode", "ms", lambda r: r["timings"]["encode_ms"]),
    ("describe", "ms", lambda r: r["timings"]["describe_ms"]),
    ("decide", "ms", lambda r: r["timings"]["decide_ms"]),
    ("prompt tokens", "", lambda r: r["timings"]["prompt_tokens"]),
    ("generated tokens", "", lambda r: r["timings"]["generated_tokens"]),
    ("total", "ms", lambda r: r["timings"]["encode_ms"] + r["timings"]["total_ms"]),
    ("peak RSS", "MiB", lambda r: r["peak_rss_mib"]),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dermlens", default=str(REPO / "build/bin/dermlens"), help="the CLI to time (default: %(default)s)")
    parser.add_argument("--model", help="GGUF text model (else one is generated from --preset)")
    parser.add_argument("--mmproj", help="GGUF projector of --model")
    parser.add_argument("--preset", default="tiny", help="generated model shape: tiny, gemma3-4b, qwen2.5-vl-7b (default: %(default)s)")
    parser.add_argument("--arch", default=None, help="generated model architecture (default: the preset's)")
    parser.add_argument("--type", default="f16", help="generated text model type (default: %(default)s)")
    parser.add_argument("--mmproj-type", default="f16", help="generated projector type (default: %(default)s)")
    parser.add_argument("--models-dir", default=os.path.expanduser("~/.cache/dermlens/bench"), help="where generated models are kept between runs (default: %(default)s)")
    parser.add_argument("--image", default=None, help="image to diagnose (default: the first shared melanoma image)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs; the median is reported (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (default: %(default)s)")
    parser.add_argument("--out", help="also write every run and the medians to this JSON file")
    parser.add_argument("extra", nargs="*", help="further diagnose options, after --")
    return parser.parse_args()


def generated_model(args):
    arch = args.arch or {"qwen2.5-vl-7b": "qwen2vl"}.get(args.preset, "gemma3")
    folder = pathlib.Path(args.models_dir) / f"{arch}-{args.preset}-{args.type}-{args.mmproj_type}"
    if not (folder / "mmproj.gguf").exists():
        print(f"generating {folder} ...", file=sys.stderr)
        subprocess.run([args.dermlens, "dev", "make-test-model", "--arch", arch, "--preset", args.preset,
                        "--type", args.type, "--mmproj-type", args.mmproj_type, "--out", str(folder)], check=True)
    return folder / "model.gguf", folder / "mmproj.gguf"


def default_image():
    images = sorted(DEFAULT_IMAGE.glob("*.jpg"))
    if not images:
        sys.exit(f"no image given and none found in {DEFAULT_IMAGE}: pass --image")
    return str(images[0])


def run_once(command):
    timed = ["/usr/bin/time", "-f", "peak_rss_kib=%M"] + command
    done = subprocess.run(timed, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"diagnose failed ({done.returncode}):\n{done.stderr}")
    result = json.loads(done.stdout)[0]
    result["peak_rss_mib"] = int(re.search(r"peak_rss_kib=(\d+)", done.stderr).group(1)) / 1024
    return result


def main():
    args = parse_args()
    model, mmproj = (args.model, args.mmproj) if args.model else generated_model(args)
    command = [args.dermlens, "diagnose", "--json", "-m", str(model), "--mmproj", str(mmproj), "--labels", LABELS,
               "-t", str(args.threads)] + args.extra + [args.image or default_image()]
    print(" ".join(command), file=sys.stderr)
    runs = [run_once(command) for _ in range(args.runs)]

    header = " | ".join(f"{name} {unit}".strip() for name, unit, _ in FIGURES)
    print(f"| run | {header} |\n|" + " --- |" * (len(FIGURES) + 1))
    for index, run in enumerate(runs, 1):
        print(f"| {index} | " + " | ".join(f"{read(run):.1f}" for _, _, read in FIGURES) + " |")
    medians = {name: statistics.median(read(run) for run in runs) for name, _, read in FIGURES}
    print("| median | " + " | ".join(f"{value:.1f}" for value in medians.values()) + " |")
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps({"command": command, "runs": runs, "medians": medians}, indent=2))


if __name__ == "__main__":
    main()
