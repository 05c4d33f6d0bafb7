// A run folder's outputs, rebuilt from its store (docs/eval.md): samples.jsonl (one record per
// sample in plan order, errors included), summary.json (settings, counts, every configuration's
// metrics, the tables), summary.csv (one row per configuration and metric), report.md (the
// tables laid out like the paper's, the plots) and the PNG plots.
#pragma once

#include "eval/eval_runner.h"
#include "eval/protocol.h"

#include <filesystem>
#include <string>
#include <vector>

namespace dermlens::eval {

struct ReportFiles {
    std::vector<std::filesystem::path> written;  // in the order written
};

// Throws Error(InvalidInput) naming a file that cannot be written.
ReportFiles write_run_report(const std::filesystem::path & dir, const Protocol & protocol, const EvalSession & session,
                             const RunStore & store);

}  // namespace dermlens::eval
