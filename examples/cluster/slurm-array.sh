#!/usr/bin/env bash
# A Slurm job array that runs one `dermlens eval` protocol over many nodes (docs/eval.md, "Many machines").
#
#   export MODEL=medgemma-4b.gguf MMPROJ=mmproj.gguf MANIFEST=ham10000.csv LABEL_SET=ham10000 OUT=runs/ham-ablation
#   jid=$(sbatch --parsable examples/cluster/slurm-array.sh)
#   sbatch --dependency=afterok:$jid --wrap "dermlens eval merge --out $OUT"
#
# Each task evaluates the shard its SLURM_ARRAY_TASK_ID names (`--shard auto`) into its own
# resumable folder $OUT/shard-i-of-n/; the ids may start at 0 or 1 (SLURM_ARRAY_TASK_MIN is
# honoured). A task that failed or was killed is resubmitted alone, with the same script, and
# continues where it stopped (`--resume` starts a folder that does not exist yet):
#   sbatch --array=7 examples/cluster/slurm-array.sh        # then run the merge
# The merge refuses a root whose shards are not all there and finished, naming the missing one.
# Sizing: a task's --cpus-per-task are its ggml threads; on shared nodes keep tasks x threads
# at most the cores Slurm gives you. The embedding cache: one file per task (the default below),
# or one on a shared file system for all tasks (SQLite WAL; docs/embeddings.md).
#SBATCH --job-name=dermlens-eval
#SBATCH --array=0-15%8
#SBATCH --cpus-per-task=4
#SBATCH --mem=12G
#SBATCH --time=24:00:00
#SBATCH --output=dermlens-eval-%A_%a.out
#SBATCH --requeue
set -euo pipefail

: "${MODEL:?set MODEL to the GGUF text model}" "${MMPROJ:?set MMPROJ to its projector}"
: "${MANIFEST:?set MANIFEST to the dataset manifest}" "${LABEL_SET:?set LABEL_SET}" "${OUT:?set OUT to the run root}"
PROTOCOL="${PROTOCOL:-paper000-ablation}"
DERMLENS="${DERMLENS:-dermlens}"
CACHE="${CACHE:-${TMPDIR:-/tmp}/dermlens-embeddings-${SLURM_ARRAY_JOB_ID:-0}-${SLURM_ARRAY_TASK_ID:-0}.sqlite}"

# EVAL_OPTIONS: further eval options, e.g. "--seeds 5 --limit 2000" (word-split on purpose).
# shellcheck disable=SC2086
exec "$DERMLENS" eval --protocol "$PROTOCOL" --manifest "$MANIFEST" --label-set "$LABEL_SET" \
    --model "$MODEL" --mmproj "$MMPROJ" --threads "${SLURM_CPUS_PER_TASK:-1}" --cache "$CACHE" \
    --shard auto --out "$OUT" --resume ${EVAL_OPTIONS:-}
