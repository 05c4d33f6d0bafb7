// dermlens train-data export: a manifest as training data for TRL, VERL or EasyR1 — Skin-R1's
// multiple-choice RL questions and reasoning trajectories, SkinFlow's caption and top-K tasks
// (docs/rewards.md).
#include "cli_errors.h"
#include "commands.h"
#include "kb_options.h"

#include "reward_models.h"
#include "rewards/export.h"

#include <fmt/format.h>

#include <memory>

namespace dermlens::cli {
namespace {

struct ExportOptions {
    KbOptions kb;
    std::string task = "mcq";
    std::string format = "trl";
    std::string images = "path";
    std::string gran_normalise = "path";
    std::filesystem::path model;   // sft: a VLM writes the trajectories' image-specific text
    std::filesystem::path mmproj;
    int threads = 0;
    rewards::ExportParams params;
};

int run_export(ExportOptions & options) {
    options.kb.validate();
    options.params.task = rewards::parse_export_task(options.task);
    options.params.format = rewards::parse_export_format(options.format);
    options.params.images = rewards::parse_image_mode(options.images);
    options.params.gran_normalise = rewards::parse_gran_normalise(options.gran_normalise);
    const kb::KnowledgeBase base = options.kb.load();
    std::unique_ptr<Engine> engine;
    rewards::ImageTextGenerator writer;
    if (!options.model.empty()) {
        EngineParams params;
        params.model = options.model;
        params.mmproj = options.mmproj;
        params.threads = options.threads;
        params.validate();
        if (params.mmproj.empty()) {
            throw Error(ErrorKind::InvalidArgument, "mmproj: the trajectory writer looks at the image: give --mmproj",
                        "mmproj");
        }
        engine = std::make_unique<Engine>(params);
        writer = image_writer(*engine);
    }
    const rewards::ExportSummary summary =
        rewards::export_training_data(base, options.params, engine ? &writer : nullptr);
    for (const auto & [split, file] : summary.files) {
        fmt::print("{}: {} rows -> {}\n", split, summary.rows.at(split), file.string());
    }
    if (summary.skipped > 0) {
        fmt::print(stderr, "dermlens: {} rows without a caption in column '{}' were left out\n", summary.skipped,
                   options.params.caption_column);
    }
    return 0;
}

}  // namespace

void register_train_data(CLI::App & root, std::vector<Command> & commands) {
    auto * train_data = root.add_subcommand("train-data", "Training data for RL and SFT trainers (TRL, VERL, EasyR1)");
    train_data->require_subcommand(1);
    auto options = std::make_shared<ExportOptions>();
    auto * app = train_data->add_subcommand(
        "export", "Write a manifest as JSON Lines for a trainer: one file per split (train: --out; others: "
                  "--out with .<split> before the extension)");
    app->add_option("--task", options->task,
                    "mcq (Skin-R1 RL questions), sft (Skin-R1 trajectories, types 1-3), caption (SkinFlow stage I), "
                    "topk (SkinFlow stage II)")
        ->check(CLI::IsMember({"mcq", "sft", "caption", "topk"}))
        ->capture_default_str();
    app->add_option("--format", options->format, "trl, verl or easyr1")
        ->check(CLI::IsMember({"trl", "verl", "easyr1"}))
        ->capture_default_str();
    app->add_option("--manifest", options->params.manifest, "Manifest CSV or folder tree")->required();
    app->add_option("--label-set", options->params.label_set, "The label set of the manifest's labels");
    app->add_option("--out", options->params.out, "The train split's file; other splits beside it")->required();
    app->add_option("--seed", options->params.seed, "Seed of the options and trajectories")->capture_default_str();
    app->add_option("--images", options->images, "path (absolute file paths) or embed (data: URIs)")
        ->check(CLI::IsMember({"path", "embed"}))
        ->capture_default_str();
    app->add_option("--gran-normalise", options->gran_normalise,
                    "mcq: R_gran over the truth's depth (path, eq. 7) or the deepest correct option (options, the "
                    "authors' code)")
        ->check(CLI::IsMember({"path", "options"}))
        ->capture_default_str();
    app->add_option("--options", options->params.options, "mcq: options per question")->capture_default_str();
    app->add_option("--max-on-path", options->params.max_on_path, "mcq: at most this many options on the truth's path")
        ->capture_default_str();
    app->add_option("--max-differential", options->params.max_differential_per_diagnosis,
                    "sft: type-2 and type-3 trajectories per diagnosis")
        ->capture_default_str();
    app->add_option("--caption-column", options->params.caption_column,
                    "caption: the manifest column holding each image's reference caption (12-field JSON)")
        ->capture_default_str();
    app->add_option("--model", options->model,
                    "sft: a GGUF VLM that writes the trajectories' rationale and comparison from each image (else "
                    "templated from the knowledge base)");
    app->add_option("--mmproj", options->mmproj, "sft: the VLM's vision projector");
    app->add_option("--threads", options->threads, "sft with --model: CPU threads (0: every core)");
    app->add_option("--kb", options->kb.overlays, "Knowledge-base overlay folder (repeatable, read in order)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    commands.push_back({app, [options] { return run_export(*options); }});
}

}  // namespace dermlens::cli
