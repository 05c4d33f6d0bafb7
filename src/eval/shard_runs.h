// The run folders of one evaluation split across processes or machines: each shard writes its
// own resumable run folder ROOT/shard-i-of-n/ under one root, and `eval merge` finds them there
// and checks that the set is whole before it combines them (docs/eval.md, "Many machines").
#pragma once

#include "eval/run_store.h"

#include <filesystem>
#include <string>
#include <vector>

namespace dermlens::eval {

// "shard-2-of-3" for the second of three (the shard's 1-based index, as i/n is written).
std::string shard_folder_name(const Shard & shard);

// Before a process of an n-way split starts ROOT/shard-i-of-n: Error(InvalidArgument) when `root`
// holds shard folders of another count, naming them and `source` (where this process's shard
// came from). A Slurm array task resubmitted alone sees an array of one (SLURM_ARRAY_TASK_COUNT=1)
// and would otherwise start a split of its own beside the real one.
void refuse_other_split(const std::filesystem::path & root, const Shard & shard, const std::string & source);

// The stores (ROOT/shard-i-of-n/run.sqlite) of a whole, finished set of shards under `root`, in
// shard order. Throws Error(InvalidArgument) naming the folders when the set is not one: no shard
// folder, folders of different counts, a shard missing, a folder without a run, a store whose
// recorded plan is not its folder's shard, shards of different image limits, a shard still being
// written (its lock is held), or a shard that holds fewer samples than it planned. Stores of
// different settings (model, manifest, ...) are refused by merge_stores().
std::vector<std::filesystem::path> complete_shard_stores(const std::filesystem::path & root);

}  // namespace dermlens::eval
