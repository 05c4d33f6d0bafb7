#!/usr/bin/env bash
# One `dermlens eval` protocol as an MPI job: mpirun starts N ranks (on one machine or across a
# hostfile's); each takes its shard from OMPI_COMM_WORLD_RANK / SIZE (Open MPI) or PMI_RANK /
# PMI_SIZE (MPICH's mpiexec) with `--shard auto` and writes $OUT/shard-i-of-N/. dermlens is not
# linked with MPI: the ranks never talk to each other, so no MPI library is needed to build it.
# Then one merge. A rerun of the same line resumes every unfinished shard (--resume).
#
#   MODEL=... MMPROJ=... MANIFEST=... LABEL_SET=... OUT=runs/ham-ablation N=8 THREADS=2 examples/cluster/mpirun.sh
#
# Sizing: N x THREADS at most the cores (per host: --map-by ppr:K:node with K x THREADS <= its cores).
set -euo pipefail
: "${MODEL:?}" "${MMPROJ:?}" "${MANIFEST:?}" "${LABEL_SET:?}" "${OUT:?}"
N="${N:-4}"
THREADS="${THREADS:-1}"

# --oversubscribe: more ranks than cores is allowed (the ranks do not spin-wait on MPI).
mpirun --oversubscribe -n "$N" --bind-to none \
    dermlens eval --protocol "${PROTOCOL:-paper000-ablation}" --manifest "$MANIFEST" --label-set "$LABEL_SET" \
    --model "$MODEL" --mmproj "$MMPROJ" --threads "$THREADS" --shard auto --out "$OUT" --resume
dermlens eval merge --out "$OUT"
