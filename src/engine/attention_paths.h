// `auto` flash attention resolved for one Engine (model/attention_choice.h): the text model's
// and the vision encoder's attention path each timed at their real shapes on this CPU with the
// Engine's threads, or read from the cache folder's store; an explicit on / off is kept. Also
// what `dermlens bench-cpu` shows. Not public API.
#pragma once

#include "dermlens/engine.h"
#include "model/attention_bench.h"
#include "model/attention_choice.h"

#include <filesystem>
#include <string>

namespace dermlens {

// One graph's attention benchmark: what it times and the key its decision is remembered under.
struct AttentionProbe {
    model::AttentionShape shape;
    model::AttentionKey key;
    int threads = 0;

    model::AttentionTimer timer() const;
};

AttentionProbe vision_attention_probe(const std::filesystem::path & mmproj, const std::string & mmproj_sha256,
                                      int threads);
// The text model's prefill attention at one ubatch: min(batch_size, context_size, 512) tokens.
AttentionProbe text_attention_probe(const std::filesystem::path & model, const std::string & model_sha256,
                                    const EngineParams & params, int threads);

// The cache folder's attention-paths.json.
model::AttentionStore attention_store();

// The path that runs and why ("auto, on: flash 12.0 ms vs plain 30.0 ms per attention").
struct AttentionPath {
    FlashAttention ran = FlashAttention::Off;
    std::string why;
};

struct AttentionPaths {
    AttentionPath text;
    AttentionPath vision;
};

// Each `auto` decided by measurement (or the store), or left to llama.cpp where a GPU device
// runs the graphs; on / off as set; the text model off when
// it captures attention; the vision encoder off without an mmproj (a text-only Engine). The
// files must have passed model::check_model_pair (model::check_text_model without an mmproj).
AttentionPaths resolve_attention_paths(const EngineParams & params, int threads, const std::string & model_sha256,
                                       const std::string & mmproj_sha256);

}  // namespace dermlens
