// `--shard auto`: which shard this process is, read from the environment its launcher set, so
// that one unchanged command line runs as a Slurm job array, an MPI job, a Kubernetes Indexed
// Job or a torchrun launch (docs/eval.md, "Many machines"). Model-free; the environment is
// passed in, so every launcher is tested without it.
//
// The launchers, tried in this order (the first whose variables are set wins):
//   Slurm job array     SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN (/ SLURM_ARRAY_TASK_STEP) of SLURM_ARRAY_TASK_COUNT
//   Open MPI            OMPI_COMM_WORLD_RANK of OMPI_COMM_WORLD_SIZE
//   MPICH / PMI         PMI_RANK of PMI_SIZE
//   Kubernetes Indexed  JOB_COMPLETION_INDEX of the given count, else of DERMLENS_SHARDS
//   torchrun            RANK of WORLD_SIZE
// Open MPI is tried before PMI and torchrun: its own variables are the ones it sets for every rank.
// A launcher whose variables are only partly set is refused naming the ones set and the ones
// missing, never skipped: running the whole plan on every task would be the silent alternative.
#pragma once

#include "eval/run_store.h"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace dermlens::eval {

// Looks up one environment variable; nullopt when it is not set.
using Environment = std::function<std::optional<std::string>(const std::string & name)>;

// The process's own environment (getenv).
Environment process_environment();

struct LauncherShard {
    Shard shard;           // 0-based index, count
    std::string launcher;  // "Slurm job array", "Open MPI", ...
    std::string source;    // the variables read, e.g. "OMPI_COMM_WORLD_RANK=1 OMPI_COMM_WORLD_SIZE=3"
};

// The shard the launcher assigned. `count`, when given (a Kubernetes Job's completions), is the
// shard count; with another launcher it must equal the launcher's. Throws Error(InvalidArgument)
// naming the variables for a partly set launcher, a value that is no number, an index not below
// the count, a count of 0, and when no launcher's variables are set at all.
LauncherShard detect_launcher_shard(const Environment & environment, std::optional<std::size_t> count = std::nullopt);

}  // namespace dermlens::eval
