// The report of one re-ranked image (docs/diagnose-json.md): what `dermlens diagnose`
// prints per image, as JSON or as a short text for a person, from a RerankResult alone.
// Where the image came from (path, hash, model files) is the caller's to add.
#pragma once

#include "pipeline/rerank.h"

#include <nlohmann/json.hpp>

#include <string>

namespace dermlens::pipeline {

// strategy, style, schema, decide, candidates_from, candidates, differential, final_diagnosis,
// abstained, abstain_reason, not_sure_probability, fusion_weight, description, answer,
// clinical_context, timings. Probabilities are as computed (not rounded); milliseconds to 0.01.
nlohmann::ordered_json to_json(const RerankResult & result);

// Several lines, each indented by two spaces: diagnosis or abstention, the differential with
// its probe / VLM / fused probabilities, description, answer, context and timings.
std::string to_text(const RerankResult & result);

}  // namespace dermlens::pipeline
