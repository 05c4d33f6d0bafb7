// One diagnosis's grounding evidence as the report shows it: for m_label and m_all, the
// statistics of the map over the image tokens and, with the lesion's mask, how much of
// the attention falls on the lesion and whether its peak does (pointing game); and the
// heat maps on the image (overlay PNGs and the raw token grids as .npy).
#pragma once

#include "grounding/attention_stats.h"
#include "grounding/lesion_mask.h"
#include "pipeline/attention_evidence.h"

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::pipeline {

struct MapReport {
    std::string name;                // "label" | "all"
    std::size_t steps = 0;           // generation steps averaged into the map
    std::string source;              // m_label: which steps ("decision step", "answer tokens", "whole answer")
    grounding::AttentionStats stats;  // its lesion part with a mask
};

struct GroundingReport {
    model::ImageLayout layout;
    grounding::AttentionReduction reduction;
    std::vector<MapReport> maps;        // m_label (when something was diagnosed), then m_all
    std::optional<std::string> mask_source;  // file | box | auto | auto-fallback, when a mask was used
    std::vector<std::filesystem::path> files;  // heat maps written
};

// The report of `evidence`, with the lesion's `mask` (at the image's size) when there is one.
GroundingReport grounding_report(const AttentionEvidence & evidence, const grounding::LesionMask * mask);

// Writes over `rgb` (R, G, B: the image the encoding came from) `dir`/label.png and all.png (the maps over the image) and label.npy, all.npy (the
// token grids, rows x columns float32) and lists them in `report.files`. Throws
// Error(InvalidInput) naming the file that cannot be written.
void write_heatmaps(const AttentionEvidence & evidence, const cv::Mat3b & rgb, const std::filesystem::path & dir,
                    GroundingReport & report);

nlohmann::ordered_json to_json(const GroundingReport & report);
std::string to_text(const GroundingReport & report);

}  // namespace dermlens::pipeline
