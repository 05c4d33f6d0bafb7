#include "pipeline/grounding_report.h"

#include "dermlens/error.h"
#include "grounding/heatmap.h"

#include <fmt/format.h>

#include <system_error>

namespace dermlens::pipeline {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

constexpr double kOverlayAlpha = 0.45;

struct NamedMap {
    const char * name;
    const std::vector<float> * values;
};

// m_label when something was diagnosed, then m_all when the response had steps.
std::vector<NamedMap> maps_of(const AttentionEvidence & evidence) {
    std::vector<NamedMap> maps;
    if (evidence.label_map) {
        maps.push_back({"label", &*evidence.label_map});
    }
    if (!evidence.all_map.empty()) {
        maps.push_back({"all", &evidence.all_map});
    }
    return maps;
}

}  // namespace

GroundingReport grounding_report(const AttentionEvidence & evidence, const grounding::LesionMask * mask) {
    GroundingReport out;
    out.layout = evidence.layout;
    out.reduction = evidence.reduction;
    if (mask) {
        out.mask_source = grounding::mask_source_name(mask->source);
    }
    for (const NamedMap & map : maps_of(evidence)) {
        MapReport report;
        report.name = map.name;
        const bool label = report.name == "label";
        report.steps = label ? evidence.label_steps.size() : evidence.all_steps.size();
        report.source = label ? evidence.label_source : "every response token";
        report.stats = grounding::token_statistics(*map.values);
        if (mask) {
            report.stats.lesion =
                grounding::lesion_statistics(grounding::upsample_to_image(*map.values, evidence.layout), mask->pixels);
        }
        out.maps.push_back(std::move(report));
    }
    return out;
}

void write_heatmaps(const AttentionEvidence & evidence, const cv::Mat3b & rgb, const fs::path & dir,
                    GroundingReport & report) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw Error(ErrorKind::InvalidInput, fmt::format("heat map folder '{}': {}", dir.string(), ec.message()));
    }
    for (const NamedMap & map : maps_of(evidence)) {
        const cv::Mat1f upsampled = grounding::upsample_to_image(*map.values, evidence.layout);
        const fs::path png = dir / fmt::format("{}.png", map.name);
        const fs::path npy = dir / fmt::format("{}.npy", map.name);
        grounding::write_heatmap_png(png, grounding::overlay(rgb, grounding::ChannelOrder::Rgb, upsampled, kOverlayAlpha),
                                     grounding::ChannelOrder::Rgb);
        grounding::write_grid_npy(npy, *map.values, evidence.layout);
        report.files.push_back(png);
        report.files.push_back(npy);
    }
}

json to_json(const GroundingReport & report) {
    json maps = json::object();
    for (const MapReport & map : report.maps) {
        json entry = {{"steps", map.steps}, {"source", map.source}};
        entry.update(grounding::to_json(map.stats));
        maps[map.name] = std::move(entry);
    }
    json files = json::array();
    for (const auto & file : report.files) {
        files.push_back(file.string());
    }
    const model::ImageLayout & layout = report.layout;
    return {{"token_grid", {{"columns", layout.grid_columns}, {"rows", layout.grid_rows}}},
            {"canvas",
             {{"width", layout.canvas_width},
              {"height", layout.canvas_height},
              {"content", {layout.content_x, layout.content_y, layout.content_width, layout.content_height}}}},
            {"layers",
             {{"first", report.reduction.first_layer},
              {"last", report.reduction.last_layer < 0 ? json(nullptr) : json(report.reduction.last_layer)},
              {"reduction", grounding::head_reduction_name(report.reduction.reduction)}}},
            {"mask", report.mask_source ? json(*report.mask_source) : json(nullptr)},
            {"maps", std::move(maps)},
            {"files", std::move(files)}};
}

std::string to_text(const GroundingReport & report) {
    std::string out = fmt::format("  attention ({} x {} image tokens{}):\n", report.layout.grid_columns,
                                  report.layout.grid_rows,
                                  report.mask_source ? fmt::format(", lesion mask: {}", *report.mask_source) : "");
    for (const MapReport & map : report.maps) {
        out += fmt::format("    m_{:<6} {} steps: normalised entropy {:.3f}, top 10% of tokens hold {:.1f}%", map.name,
                           map.steps, map.stats.normalised_entropy, 100 * map.stats.top_decile_share);
        if (const auto & lesion = map.stats.lesion) {
            out += fmt::format(", {:.1f}% on the lesion ({:.1f}% of the image), peak {} it", 100 * lesion->mass_share,
                               100 * lesion->area_share, lesion->pointing_hit ? "inside" : "outside");
        }
        out += "\n";
    }
    for (const auto & file : report.files) {
        out += fmt::format("    wrote {}\n", file.string());
    }
    return out;
}

}  // namespace dermlens::pipeline
