// dermlens ground attention --model M --mmproj P --manifest M --out DIR
//   (--labels "a,b" | --label-set NAME | --probe P.probe) [--strategies direct,describe-then-decide]
//   [--attention-layers FIRST:LAST] [--attention-reduce mean|max] [--heatmaps] [--limit N]
//   [--mask-column mask] [--box-column box] [--style S] [--schema S] [--decide score|generate] ...
// Does the model look at the lesion? Per image and strategy, the decoder's attention over the
// image tokens is captured (paper 000 eq. 2-4: m_label, the steps that chose the diagnosis;
// m_all, the whole response) and set against the lesion's mask (its mask file, else its box,
// else automatic segmentation): attention mass on the lesion, pointing game, entropy, top-10%
// share, paper 003's weight histogram. Writes DIR/report.json (settings, per-image rows with
// each strategy's grounding report, summary), DIR/summary.csv (per strategy and map),
// DIR/attention_histograms.png (m_label's histogram per strategy, paper 003 fig. 6) and with
// --heatmaps DIR/heatmaps/<strategy>/<image>/{label,all}.{png,npy}; the summary on stdout.
// Exit 1 when some image failed (its row holds the error), 0 otherwise.
#include "ground_flow.h"

#include "dermlens/error.h"
#include "grounding/attention_stats.h"
#include "grounding/histogram_plot.h"
#include "pipeline/grounding_report.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <memory>

namespace dermlens::cli {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

constexpr const char * kPlotFile = "attention_histograms.png";
constexpr std::array<const char *, 2> kMaps{"label", "all"};  // m_label, m_all

struct AttentionCommandOptions {
    GroundOptions ground;
    std::string strategies = "direct,describe-then-decide";
    AttentionOptions attention;
    bool heatmaps = false;
};

// Every tested image's statistics, per strategy and map (kMaps order); m_label is missing
// where nothing was diagnosed.
using MapStats = std::array<std::vector<grounding::AttentionStats>, kMaps.size()>;

std::size_t map_index(const std::string & name) {
    return name == kMaps[0] ? 0 : 1;
}

class AttentionTest {
public:
    AttentionTest(GroundSession & session, const std::optional<fs::path> & heatmap_dir)
        : session_(session), heatmap_dir_(heatmap_dir), stats_(session.strategies().size()) {}

    json row(const ImageInput & input) {
        const LoadedImage image = session_.load(input);
        const grounding::LesionMask mask = grounding::lesion_mask(image.rgb, mask_spec(input));
        const EncodedImage encoding = session_.encode(image.rgb);
        std::vector<MapStats> image_stats(session_.strategies().size());
        json strategies = json::object();
        for (std::size_t i = 0; i < session_.strategies().size(); ++i) {
            const std::string & strategy = session_.strategies()[i];
            const pipeline::RerankResult result = session_.diagnose(i, encoding, input, image.sha256);
            if (!result.attention) {
                throw Error(ErrorKind::Runtime, fmt::format("strategy {} captured no attention", strategy));
            }
            pipeline::GroundingReport report = pipeline::grounding_report(*result.attention, &mask);
            if (heatmap_dir_) {
                pipeline::write_heatmaps(*result.attention, image.rgb,
                                         *heatmap_dir_ / strategy / heatmap_folder_name(input.name), report);
            }
            for (const pipeline::MapReport & map : report.maps) {
                image_stats[i][map_index(map.name)].push_back(map.stats);
            }
            json decision = decision_json(result);
            decision["grounding"] = pipeline::to_json(report);
            strategies[strategy] = std::move(decision);
        }
        // Kept only once every strategy succeeded, so that the summary covers the rows without error.
        for (std::size_t i = 0; i < image_stats.size(); ++i) {
            for (std::size_t m = 0; m < kMaps.size(); ++m) {
                stats_[i][m].insert(stats_[i][m].end(), image_stats[i][m].begin(), image_stats[i][m].end());
            }
        }
        return {{"sha256", image.sha256},
                {"width", image.rgb.cols},
                {"height", image.rgb.rows},
                {"mask", mask_json(mask)},
                {"strategies", std::move(strategies)}};
    }

    // Per strategy, per map.
    std::vector<std::array<grounding::StrategySummary, kMaps.size()>> summaries() const {
        std::vector<std::array<grounding::StrategySummary, kMaps.size()>> out;
        for (std::size_t i = 0; i < stats_.size(); ++i) {
            out.push_back({grounding::summarise(session_.strategies()[i], stats_[i][0]),
                           grounding::summarise(session_.strategies()[i], stats_[i][1])});
        }
        return out;
    }

private:
    GroundSession & session_;
    std::optional<fs::path> heatmap_dir_;
    std::vector<MapStats> stats_;  // per strategy
};

json mask_sources(const std::vector<const json *> & tested) {
    json sources = json::object();
    for (const auto source : {grounding::MaskSource::File, grounding::MaskSource::Box, grounding::MaskSource::Auto,
                              grounding::MaskSource::AutoFallback}) {
        std::size_t count = 0;
        for (const json * row : tested) {
            count += (*row)["mask"]["source"] == grounding::mask_source_name(source) ? 1 : 0;
        }
        sources[grounding::mask_source_name(source)] = count;
    }
    return sources;
}

json attention_summary(const json & rows, const std::vector<std::array<grounding::StrategySummary, kMaps.size()>> & summaries,
                       std::size_t encoder_runs) {
    const auto tested = succeeded(rows);
    json strategies = json::object();
    for (const auto & maps : summaries) {
        json entry = json::object();
        for (std::size_t m = 0; m < kMaps.size(); ++m) {
            entry[kMaps[m]] = grounding::to_json(maps[m]);
        }
        strategies[maps[0].strategy] = std::move(entry);
    }
    return {{"images", rows.size()},
            {"tested", tested.size()},
            {"failed", rows.size() - tested.size()},
            {"encoder_runs", encoder_runs},
            {"mask_sources", mask_sources(tested)},
            {"strategies", std::move(strategies)}};
}

std::string summary_csv(const std::vector<std::array<grounding::StrategySummary, kMaps.size()>> & summaries) {
    std::string csv = "strategy,map,images,lesion_mass_share_mean,lesion_mass_share_std,lesion_area_share_mean,"
                      "pointing_game_hit_rate,normalised_entropy_mean,top_decile_share_mean";
    for (std::size_t bin = 0; bin < grounding::kHistogramBins; ++bin) {
        csv += ",histogram_" + grounding::histogram_bin_label(bin);
    }
    csv += "\n";
    for (const auto & maps : summaries) {
        for (std::size_t m = 0; m < kMaps.size(); ++m) {
            const grounding::StrategySummary & s = maps[m];
            csv += fmt::format("{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f}", s.strategy, kMaps[m], s.images,
                               s.lesion_mass_share.mean, s.lesion_mass_share.std, s.lesion_area_share.mean,
                               s.pointing_game.mean, s.normalised_entropy.mean, s.top_decile_share.mean);
            for (const auto & bin : s.histogram) {
                csv += fmt::format(",{:.6f}", bin.mean);
            }
            csv += "\n";
        }
    }
    return csv;
}

void print_summary(const json & summary, const std::vector<std::array<grounding::StrategySummary, kMaps.size()>> & summaries,
                   const fs::path & out) {
    std::string sources;
    for (const auto & [source, count] : summary["mask_sources"].items()) {
        sources += fmt::format("{}{} {}", sources.empty() ? "" : ", ", source, count.get<std::size_t>());
    }
    std::printf("ground attention: %zu images, %zu failed (masks: %s)\n", summary["images"].get<std::size_t>(),
                summary["failed"].get<std::size_t>(), sources.c_str());
    std::printf("%-22s %-6s %7s %18s %12s %9s %10s\n", "strategy", "map", "images", "on lesion", "lesion area",
                "pointing", "top 10%");
    for (const auto & maps : summaries) {
        for (std::size_t m = 0; m < kMaps.size(); ++m) {
            const grounding::StrategySummary & s = maps[m];
            std::printf("%-22s %-6s %7zu %9.3f +- %5.3f %12.3f %8.1f%% %10.3f\n", s.strategy.c_str(), kMaps[m], s.images,
                        s.lesion_mass_share.mean, s.lesion_mass_share.std, s.lesion_area_share.mean,
                        100.0 * s.pointing_game.mean, s.top_decile_share.mean);
        }
    }
    std::printf("(on lesion: the map's mass inside the lesion; a uniform map scores the lesion area)\n");
    std::printf("wrote %s, %s, %s\n", (out / "report.json").c_str(), (out / "summary.csv").c_str(),
                (out / kPlotFile).c_str());
}

// Paper 003 fig. 6: m_label's weight histogram per strategy.
void write_histogram_plot(const fs::path & path,
                          const std::vector<std::array<grounding::StrategySummary, kMaps.size()>> & summaries) {
    std::vector<grounding::HistogramSeries> series;
    for (const auto & maps : summaries) {
        series.push_back(grounding::histogram_series(maps[0]));
    }
    write_png(path, grounding::histogram_plot(series), grounding::ChannelOrder::Bgr);
}

int run_attention(AttentionCommandOptions options) {
    options.attention.attention = true;  // what this command is for
    GroundSetup setup{parse_strategy_list(options.strategies), false, options.attention};
    const std::vector<ImageInput> inputs = ground_inputs(options.ground);
    GroundSession session(options.ground, std::move(setup));
    const fs::path out = prepare_out_dir(options.ground.out);

    AttentionTest test(session, options.heatmaps ? std::optional<fs::path>(out / "heatmaps") : std::nullopt);
    const ImageRows images =
        for_each_image("ground attention", inputs, [&](const ImageInput & input) { return test.row(input); });
    const auto summaries = test.summaries();
    const json summary = attention_summary(images.rows, summaries, session.encoder_runs());
    write_json_file(out / "report.json",
                    {{"command", "ground attention"},
                     {"settings", session.settings()},
                     {"images", images.rows},
                     {"summary", summary}});
    write_text_file(out / "summary.csv", summary_csv(summaries));
    write_histogram_plot(out / kPlotFile, summaries);
    print_summary(summary, summaries, out);
    std::fprintf(stderr, "ground attention: %zu images: %zu encoded, %zu failed\n", inputs.size(),
                 session.encoder_runs(), images.failed);
    return images.failed == 0 ? 0 : 1;
}

}  // namespace

void register_ground_attention(CLI::App & ground, std::vector<Command> & commands) {
    auto options = std::make_shared<AttentionCommandOptions>();
    auto * app = ground.add_subcommand(
        "attention", "Capture the model's attention over each image with each strategy: its share on the lesion, "
                     "pointing game, concentration and weight histograms (paper 000 fig. 5, paper 003 fig. 6)");
    add_ground_options(*app, options->ground, "direct", {"--strategy"});
    add_strategies_option(*app, options->strategies);
    add_attention_options(*app, options->attention, /*with_outputs=*/false);
    app->remove_option(app->get_option("--attention"));  // always on here
    app->add_flag("--heatmaps", options->heatmaps,
                  "Write each image's heat maps to DIR/heatmaps/<strategy>/<image>/: label.png, all.png (overlays), "
                  "label.npy, all.npy (token grids)");
    commands.push_back({app, [options] { return run_attention(*options); }});
}

}  // namespace dermlens::cli
