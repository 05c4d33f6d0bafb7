// What the public Diagnosis and EncodedImage hold opaquely (dermlens/engine.h): the
// pipeline's own result and encoding, for the report and for later diagnoses.
#pragma once

#include "dermlens/engine.h"
#include "model/vlm.h"
#include "pipeline/grounding_report.h"
#include "pipeline/rerank.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace dermlens {

struct Diagnosis::Details {
    pipeline::RerankResult result;
    std::optional<pipeline::GroundingReport> grounding;
    FileInfo model;
    FileInfo mmproj;
    nlohmann::ordered_json settings;  // the run's settings as docs/diagnose-json.md lists them
};

struct EncodedImage::Data {
    model::ImageEncoding encoding;
    std::optional<Image> source;  // the pixels of heat maps and lesion masks
};

}  // namespace dermlens
