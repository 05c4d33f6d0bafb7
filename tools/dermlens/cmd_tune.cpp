// dermlens tune --probe P.probe --manifest M --model M --mmproj P [--split val] [--out P2.probe]
//   [--cache DB] [--strategy combined ...the pipeline options of diagnose] [--json]
// Chooses the probe's fusion weight (probe/fusion.h) for one model and strategy: runs the
// pipeline on the manifest's validation images, collects the probe's and the VLM's
// probabilities over each image's candidates, picks the weight of the grid with the best
// accuracy and stores it in the probe (Probe::fusion), which `diagnose` then fuses with.
#include "cli_errors.h"
#include "commands.h"
#include "diagnose_flow.h"

#include "dermlens/error.h"
#include "dataset/manifest.h"
#include "pipeline/prompt.h"
#include "probe/fusion.h"
#include "probe/probe.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace dermlens::cli {
namespace {

using json = nlohmann::ordered_json;

struct TuneOptions {
    std::string manifest;
    std::string model;
    std::string mmproj;
    std::string cache;  // empty: no embedding cache
    std::string split = "val";
    std::string out;  // empty: overwrite --probe
    DecisionOptions decision;
    ClassOptions classes;  // only --kb: the probe's classes are the labels
    RuntimeOptions runtime;

    void validate() const {
        if (decision.probe.empty()) {
            throw Error(ErrorKind::InvalidArgument, "tune chooses a probe's fusion weight: give --probe P.probe");
        }
        if (split.empty()) {
            throw Error(ErrorKind::InvalidArgument, "--split must name a split of the manifest, e.g. val");
        }
    }

    const std::string & out_path() const { return out.empty() ? decision.probe : out; }
};

// The manifest's rows of `split`, each labelled with one of the probe's classes. Throws
// Error(InvalidInput) when the manifest has no split column, no row of that split, or a
// row whose label the probe does not know (naming the line).
dataset::Manifest split_rows(const dataset::Manifest & manifest, const std::string & split, const probe::Probe & probe) {
    const bool has_splits =
        std::any_of(manifest.rows.begin(), manifest.rows.end(), [](const auto & row) { return !row.split.empty(); });
    if (!has_splits) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("manifest '{}' has no split column: tune needs validation images (a 'split' column, "
                                "rows marked '{}')",
                                manifest.source.string(), split));
    }
    dataset::Manifest kept = manifest;
    kept.rows.clear();
    for (const auto & row : manifest.rows) {
        if (row.split != split) {
            continue;
        }
        if (std::find(probe.classes.begin(), probe.classes.end(), row.label) == probe.classes.end()) {
            throw Error(ErrorKind::InvalidInput, fmt::format("{}: label '{}' is not one of the probe's classes ({})",
                                                             manifest.where(row), row.label, fmt::join(probe.classes, ", ")));
        }
        kept.rows.push_back(row);
    }
    if (kept.rows.empty()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("manifest '{}' has no rows of split '{}'", manifest.source.string(), split));
    }
    return kept;
}

// The probe's and the VLM's probabilities over the image's candidates, and where its true class is among them.
probe::FusionExample fusion_example(const Diagnosis & diagnosis, const std::string & truth) {
    probe::FusionExample example;
    for (std::size_t i = 0; i < diagnosis.candidates.size(); ++i) {
        const CandidateScore & candidate = diagnosis.candidates[i];
        example.probe.push_back(candidate.probe.value());  // set for every candidate when the pipeline has a probe
        example.vlm.push_back(candidate.vlm);
        if (candidate.label == truth) {
            example.truth = i;
        }
    }
    return example;
}

void print_table(const probe::FusionChoice & choice) {
    std::printf("%8s  %8s  %8s\n", "weight", "accuracy", "log loss");
    for (std::size_t i = 0; i < choice.grid.size(); ++i) {
        std::printf("%8.2f  %8.4f  %8.4f%s\n", choice.grid[i], choice.accuracy[i], choice.log_loss[i],
                    choice.grid[i] == choice.weight ? "  <- chosen" : "");
    }
}

int run_tune(const TuneOptions & options) {
    options.validate();
    const probe::Probe probe_file = probe::load_probe(options.decision.probe);
    const dataset::Manifest validation = split_rows(dataset::read_manifest(options.manifest), options.split, probe_file);
    const std::vector<ImageInput> inputs = manifest_inputs(validation, {});

    DiagnoseSession session(options.model, options.mmproj, options.runtime, options.decision, options.classes,
                            options.cache);
    std::vector<probe::FusionExample> examples;
    std::size_t failed = 0;
    for (const auto & input : inputs) {
        const ImageReport report = session.diagnose(input);
        if (report.error) {
            ++failed;
            std::fprintf(stderr, "dermlens: error: %s\n", cli_message(*report.error).c_str());
            if (stops_batch(*report.error)) {
                throw *report.error;
            }
            continue;
        }
        examples.push_back(fusion_example(*report.diagnosis, input.label));
    }
    if (examples.empty()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("no image of split '{}' of manifest '{}' could be diagnosed: "
                                                         "nothing to tune on",
                                                         options.split, options.manifest));
    }
    const probe::FusionChoice choice = probe::choose_fusion_weight(examples);

    const EngineInfo engine = session.engine().info();
    probe::Probe tuned = probe_file;
    tuned.fusion = probe::Fusion{choice.weight,
                                 std::string(pipeline::strategy_name(pipeline::parse_strategy(options.decision.strategy))),
                                 engine.model.sha256,
                                 choice.rows,
                                 choice.grid,
                                 choice.accuracy};
    probe::save_probe(tuned, options.out_path());

    std::fprintf(stderr, "tune: %zu images: %zu encoded, %zu from the embedding cache, %zu failed\n", inputs.size(),
                 engine.encoder_runs, engine.cache_hits, failed);
    if (options.runtime.json) {
        json grid = json::array();
        for (std::size_t i = 0; i < choice.grid.size(); ++i) {
            grid.push_back({{"weight", choice.grid[i]}, {"accuracy", choice.accuracy[i]}, {"log_loss", choice.log_loss[i]}});
        }
        const json summary = {{"manifest", options.manifest},
                              {"split", options.split},
                              {"images", inputs.size()},
                              {"rows", choice.rows},
                              {"failed", failed},
                              {"strategy", tuned.fusion->strategy},
                              {"model_sha256", tuned.fusion->model_sha256},
                              {"weight", choice.weight},
                              {"grid", grid},
                              {"probe_file", options.out_path()}};
        std::printf("%s\n", summary.dump(2).c_str());
    } else {
        std::printf("tune: %zu images of split '%s', strategy %s; accuracy of the fused probabilities per probe weight:\n",
                    choice.rows, options.split.c_str(), tuned.fusion->strategy.c_str());
        print_table(choice);
        std::printf("probe weight %g: wrote %s\n", choice.weight, options.out_path().c_str());
    }
    return failed == 0 ? 0 : 1;
}

}  // namespace

void register_tune(CLI::App & root, std::vector<Command> & commands) {
    auto options = std::make_shared<TuneOptions>();
    auto * app = root.add_subcommand(
        "tune", "Choose the probe's fusion weight with the VLM on a manifest's validation images and store it in the "
                "probe");
    app->add_option("--manifest", options->manifest,
                    "CSV (image,label,split[,age,sex,site,history,fitzpatrick,...]) or folder tree with split folders")
        ->required();
    app->add_option("--model,-m", options->model, "GGUF text model the weight is tuned for")
        ->required()
        ->envname("DERMLENS_MODEL");
    app->add_option("--mmproj", options->mmproj, "GGUF vision projector belonging to the model")
        ->required()
        ->envname("DERMLENS_MMPROJ");
    app->add_option("--split", options->split, "Manifest split whose images choose the weight")->capture_default_str();
    app->add_option("--out", options->out, "Write the tuned probe here instead of overwriting --probe");
    add_cache_option(*app, options->cache);
    add_kb_overlay_option(*app, options->classes);
    add_decision_options(*app, options->decision, "combined");
    add_runtime_options(*app, options->runtime);
    commands.push_back({app, [options] { return run_tune(*options); }});
}

}  // namespace dermlens::cli
