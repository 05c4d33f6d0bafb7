// Runs a protocol's plan into the run's store: the items of this shard not stored yet, one by
// one, each stored as soon as it is done (so a killed run resumes where it stopped), a failed
// item stored with its error while the run goes on.
#pragma once

#include "eval/protocol.h"

#include <cstddef>
#include <functional>
#include <string>

namespace dermlens::eval {

struct RunCounts {
    std::size_t planned = 0;       // items of the whole plan
    std::size_t in_shard = 0;      // of those, this shard's
    std::size_t already_done = 0;  // of those, stored before this run (--resume)
    std::size_t ran = 0;           // evaluated now
    std::size_t failed = 0;        // of those, stored with an error
};

// After each item: items of the shard done (stored before or now), failures so far, and the
// failure message of this item ("" when it succeeded).
using ItemProgress = std::function<void(const RunCounts & counts, const std::string & failure)>;

// An item that throws dermlens::Error is stored with {"kind", "message"}; an error of the model
// or the options (InvalidModel, InvalidArgument) stops the run instead — every later item would
// fail alike — after everything done so far is stored.
RunCounts run_plan(const Protocol & protocol, EvalSession & session, RunStore & store, const Shard & shard,
                   const ItemProgress & progress);

}  // namespace dermlens::eval
