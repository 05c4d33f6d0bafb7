// A DiagnoseRequest (dermlens/engine.h) in the pipeline's terms: its named choices parsed,
// its ranges checked, every failure an Error(InvalidArgument) naming the request's field.
#pragma once

#include "dermlens/engine.h"
#include "grounding/attention_map.h"
#include "pipeline/rerank.h"

#include <optional>

namespace dermlens::engine {

// The re-ranking parameters of `request` (attention included when it asks for maps).
pipeline::RerankParams rerank_params(const DiagnoseRequest & request);

// The attention reduction `request` asks for; none when it asks for no maps.
std::optional<grounding::AttentionReduction> attention_reduction(const AttentionRequest & request);

// Whether the request needs the attention of the text model: maps, heat maps or lesion statistics.
bool wants_attention(const DiagnoseRequest & request) noexcept;

}  // namespace dermlens::engine
