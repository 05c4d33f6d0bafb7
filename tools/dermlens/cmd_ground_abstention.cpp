// dermlens ground abstention --model M --mmproj P --manifest M --out DIR
//   (--labels "a,b" | --label-set NAME | --probe P.probe) [--strategies direct,describe-then-decide]
//   [--save-masked] [--limit N] [--mask-column mask] [--box-column box] [--style S] [--schema S]
//   [--decide score|generate] [--candidates topk|conformal] [--top-k K] [--abstain-below P] ...
// Paper 000 fig. 4: with the lesion hidden, does the model say it is not sure? Per image the
// lesion's mask (its mask file, else its box, else automatic segmentation) is inpainted away,
// the masked image is encoded once and asked with each strategy, a "not sure" option offered.
// Writes DIR/report.json (settings, per-image rows, summary), DIR/summary.csv (abstention
// rate per strategy) and with --save-masked DIR/masked/<image>.png; the summary on stdout.
// Exit 1 when some image failed (its row holds the error), 0 otherwise.
#include "ground_flow.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <memory>

namespace dermlens::cli {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

struct AbstentionOptions {
    GroundOptions ground;
    std::string strategies = "direct,describe-then-decide";
    bool save_masked = false;
};

constexpr std::array<grounding::MaskSource, 4> kMaskSources{grounding::MaskSource::File, grounding::MaskSource::Box,
                                                           grounding::MaskSource::Auto,
                                                           grounding::MaskSource::AutoFallback};

json abstention_row(GroundSession & session, const ImageInput & input, const std::optional<fs::path> & out_dir) {
    const LoadedImage image = session.load(input);
    const grounding::LesionMask mask = grounding::lesion_mask(image.rgb, mask_spec(input));
    const cv::Mat3b masked = grounding::mask_lesion(image.rgb, mask.pixels);
    json row = {{"sha256", image.sha256}, {"width", image.rgb.cols}, {"height", image.rgb.rows}, {"mask", mask_json(mask)}};
    if (out_dir) {
        const fs::path relative = fs::path("masked") / (heatmap_folder_name(input.name) + ".png");
        write_png(*out_dir / relative, masked, grounding::ChannelOrder::Rgb);
        row["masked_image"] = relative.string();
    }
    const EncodedImage encoding = session.encode(masked);
    json strategies = json::object();
    for (std::size_t i = 0; i < session.strategies().size(); ++i) {
        strategies[session.strategies()[i]] = decision_json(session.diagnose(i, encoding, input, image.sha256));
    }
    row["strategies"] = std::move(strategies);
    return row;
}

json abstention_summary(const json & rows, const std::vector<std::string> & strategies, std::size_t encoder_runs) {
    const auto tested = succeeded(rows);
    json sources = json::object();
    for (const auto source : kMaskSources) {
        sources[grounding::mask_source_name(source)] = 0;
    }
    json per_strategy = json::object();
    for (const auto & strategy : strategies) {
        std::size_t abstentions = 0;
        for (const json * row : tested) {
            abstentions += (*row)["strategies"][strategy]["abstained"].get<bool>() ? 1 : 0;
        }
        per_strategy[strategy] = {{"images", tested.size()},
                                  {"abstentions", abstentions},
                                  {"abstention_rate", share(abstentions, tested.size())}};
    }
    for (const json * row : tested) {
        auto & count = sources[(*row)["mask"]["source"].get<std::string>()];
        count = count.get<std::size_t>() + 1;
    }
    return {{"images", rows.size()},
            {"tested", tested.size()},
            {"failed", rows.size() - tested.size()},
            {"encoder_runs", encoder_runs},
            {"mask_sources", sources},
            {"strategies", per_strategy}};
}

std::string summary_csv(const json & summary) {
    std::string csv = "strategy,images,abstentions,abstention_rate\n";
    for (const auto & [strategy, counts] : summary["strategies"].items()) {
        csv += fmt::format("{},{},{},{:.6f}\n", strategy, counts["images"].get<std::size_t>(),
                           counts["abstentions"].get<std::size_t>(), counts["abstention_rate"].get<double>());
    }
    return csv;
}

void print_summary(const json & summary, const fs::path & out) {
    std::string sources;
    for (const auto & [source, count] : summary["mask_sources"].items()) {
        sources += fmt::format("{}{} {}", sources.empty() ? "" : ", ", source, count.get<std::size_t>());
    }
    std::printf("ground abstention: %zu images with the lesion hidden, %zu failed (masks: %s)\n",
                summary["images"].get<std::size_t>(), summary["failed"].get<std::size_t>(), sources.c_str());
    std::printf("%-22s %8s %10s %8s\n", "strategy", "images", "abstained", "rate");
    for (const auto & [strategy, counts] : summary["strategies"].items()) {
        std::printf("%-22s %8zu %10zu %7.1f%%\n", strategy.c_str(), counts["images"].get<std::size_t>(),
                    counts["abstentions"].get<std::size_t>(), 100.0 * counts["abstention_rate"].get<double>());
    }
    std::printf("(paper 000, MedGemma-4B on 200 masked images: direct 12%%, describe-then-decide 72%%)\n");
    std::printf("wrote %s, %s\n", (out / "report.json").c_str(), (out / "summary.csv").c_str());
}

int run_abstention(const AbstentionOptions & options) {
    GroundSetup setup{parse_strategy_list(options.strategies), true, std::nullopt};
    const std::vector<ImageInput> inputs = ground_inputs(options.ground);
    GroundSession session(options.ground, std::move(setup));
    const fs::path out = prepare_out_dir(options.ground.out);
    const std::optional<fs::path> masked_dir = options.save_masked ? std::optional<fs::path>(out) : std::nullopt;

    const ImageRows images = for_each_image("ground abstention", inputs, [&](const ImageInput & input) {
        return abstention_row(session, input, masked_dir);
    });
    const json summary = abstention_summary(images.rows, session.strategies(), session.encoder_runs());
    write_json_file(out / "report.json",
                    {{"command", "ground abstention"},
                     {"settings", session.settings()},
                     {"images", images.rows},
                     {"summary", summary}});
    write_text_file(out / "summary.csv", summary_csv(summary));
    print_summary(summary, out);
    std::fprintf(stderr, "ground abstention: %zu images: %zu encoded, %zu failed\n", inputs.size(),
                 session.encoder_runs(), images.failed);
    return images.failed == 0 ? 0 : 1;
}

}  // namespace

void register_ground_abstention(CLI::App & ground, std::vector<Command> & commands) {
    auto options = std::make_shared<AbstentionOptions>();
    auto * app = ground.add_subcommand(
        "abstention", "Hide each image's lesion and ask with each strategy, a \"not sure\" option offered: how often "
                      "does the model abstain? (paper 000 fig. 4)");
    add_ground_options(*app, options->ground, "direct", {"--strategy", "--not-sure"});
    add_strategies_option(*app, options->strategies);
    app->add_flag("--save-masked", options->save_masked, "Write each masked image to DIR/masked/<image>.png");
    commands.push_back({app, [options] { return run_abstention(*options); }});
}

}  // namespace dermlens::cli
