// Which generation steps' attention makes paper 000's maps for one diagnosis: m_label from
// the steps that chose the predicted diagnosis (the scored step, or the answer tokens that
// spell it), m_all from every step of the response (description and answer).
#pragma once

#include "grounding/attention_map.h"
#include "model/image_layout.h"
#include "model/vlm.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::pipeline {

struct AttentionEvidence {
    model::ImageLayout layout;
    grounding::AttentionReduction reduction;
    std::optional<std::vector<float>> label_map;  // m_label; empty when nothing was diagnosed
    std::vector<float> all_map;                   // m_all
    std::vector<std::size_t> label_steps;         // steps averaged into m_label (indices into the diagnosis's steps)
    std::vector<std::size_t> all_steps;           // into m_all
    std::string label_source;                     // "decision step" | "answer tokens" | "whole answer"
    std::vector<model::AttentionStep> raw_steps;  // every step observed, per layer and head (when kept)
};

// The steps of `answer` whose tokens spell the diagnosis, as indices into its tokens: those
// overlapping `label` (ASCII case-insensitive) in `answer_part` (the part of the reply the
// answer was read from), else the option `marker` standing alone there, else the whole
// answer part. `source` says which.
std::vector<std::size_t> diagnosis_token_steps(const model::Generation & answer, const std::string & answer_part,
                                               const std::string & label, const std::string & marker,
                                               std::string & source);

}  // namespace dermlens::pipeline
