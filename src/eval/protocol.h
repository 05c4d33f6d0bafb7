// An evaluation protocol of `dermlens eval` (docs/eval.md): the work it plans over the test
// images — one item per image and configuration (seed, strategy, shots, question set …) —
// what one item records, and how the recorded samples become the paper's tables.
//
// A protocol plans the same items in the same order for the same session, so that a resumed
// or sharded run knows what is done by key. Items of one image are planned together: the
// image is encoded once for all of them.
#pragma once

#include "eval/eval_session.h"
#include "eval/eval_summary.h"
#include "eval/run_store.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace dermlens::eval {

struct WorkItem {
    std::string key;                // unique and stable: "seed=0|strategy=direct|image=melanoma/a.jpg"
    std::size_t image = 0;          // into the dataset's images
    std::size_t image_ordinal = 0;  // the image's position among the test images: what --shard splits
    nlohmann::ordered_json config;  // the configuration (seed, strategy, …): what the summary groups by
};

class Protocol {
public:
    virtual ~Protocol() = default;
    virtual std::string name() const = 0;
    virtual std::string description() const = 0;  // one line, for --help and report.md
    virtual std::vector<WorkItem> plan(const EvalSession & session) const = 0;
    // The item's record (docs/eval.md "samples.jsonl"): the prediction as class indices
    // ("truth", "predicted", optional "probabilities", "set") and the evidence (raw text,
    // timings). Throws dermlens::Error; the runner records it as the item's error.
    virtual nlohmann::ordered_json run(const WorkItem & item, EvalSession & session) const = 0;
    // The metrics of every configuration, the paper's tables and the plots.
    virtual ProtocolReport summarise(const EvalSession & session, const std::vector<StoredSample> & samples) const = 0;
};

// The names `--protocol` takes, in the order --help lists them.
std::vector<std::string> protocol_names();
// Throws Error(InvalidArgument) naming the choices for an unknown name.
std::unique_ptr<Protocol> make_protocol(const std::string & name);

// "key=value|key=value|image=<image>" from the configuration and the image's manifest name.
std::string item_key(const nlohmann::ordered_json & config, const std::string & image);

}  // namespace dermlens::eval
