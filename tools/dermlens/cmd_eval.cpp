// dermlens eval --protocol NAME --manifest M --label-set NAME -m M.gguf --mmproj P.gguf --out DIR
//   [--resume] [--limit N] [--shard i/n|auto [--shards N]] [--seeds 5] [--seed 0] [--shots 8] [--shot-counts 1,2,4,8,16]
//   [--top-k 5] [--strategy direct] [--style S] [--schema S] [--decide score|generate] [--cache DB | --no-cache] ...
// Runs one of the papers' evaluation protocols (docs/eval.md) over the manifest's test images.
// Every sample goes to DIR/run.sqlite as soon as it is done: a killed run continues with
// --resume, recomputing nothing. At the end DIR holds samples.jsonl, summary.json,
// summary.csv, report.md and the plots; the report's tables go to stdout (--json: summary.json).
// --shard auto takes the shard from the launcher (Slurm array, MPI, Kubernetes Indexed Job,
// torchrun: eval/launcher_shard.h) and writes DIR/shard-i-of-n/, which `eval merge --out DIR` finds.
// Exit 1 when some sample failed (its error is in samples.jsonl), 0 otherwise.
#include "commands.h"
#include "diagnose_flow.h"
#include "progress.h"

#include "common/file_hash_cache.h"
#include "dermlens/error.h"
#include "eval/eval_report.h"
#include "eval/eval_runner.h"
#include "eval/launcher_shard.h"
#include "eval/shard_runs.h"
#include "vision/embedding_cache.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

namespace dermlens::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct EvalOptions {
    std::string protocol;
    std::string manifest;
    std::string model;
    std::string mmproj;
    std::string out;
    bool resume = false;
    std::string shard = "1/1";
    std::size_t shards = 0;  // with --shard auto: the count a launcher does not give (Kubernetes); 0: the launcher's
    std::size_t seeds = 5;
    std::size_t shots = 8;
    std::vector<std::size_t> shot_counts{1, 2, 4, 8, 16};
    std::size_t top_k = 5;
    std::string conformal_score = "lac";
    bool conformal_per_class = false;
    std::string strategy = "direct";
    std::size_t limit = 0;
    std::size_t bootstrap = 1000;
    std::string style = "dermlens";
    std::string schema = "five-criteria";
    std::string decide = "score";
    std::string rouge = "sentence";
    std::string cache;
    bool no_cache = false;
    ClassOptions classes;
    RuntimeOptions runtime;

    eval::EvalParams params() const {
        if (protocol.empty() || manifest.empty() || out.empty() || model.empty() || mmproj.empty()) {
            throw Error(ErrorKind::InvalidArgument, "eval needs --protocol, --manifest, --model, --mmproj and --out");
        }
        eval::make_protocol(protocol);  // an unknown name fails here, before anything loads
        eval::EvalParams params;
        params.protocol = protocol;
        params.manifest = manifest;
        params.label_set = classes.label_set;
        params.kb_overlays.assign(classes.kb_overlays.begin(), classes.kb_overlays.end());
        const EngineParams engine = engine_params(model, mmproj, runtime, {}, {}, "", false);
        params.vlm.model_path = engine.model;
        params.vlm.mmproj_path = engine.mmproj;
        params.vlm.threads = engine.threads;
        params.vlm.context_size = engine.context_size;
        params.vlm.batch_size = engine.batch_size;
        params.vlm.text_flash_attention = engine.flash_attention;
        params.vlm.vision_flash_attention = engine.vision_flash_attention;
        params.vlm.reuse_prefix = engine.reuse_prefix;
        params.vlm.log = engine.log;
        params.vlm.max_tokens = runtime.max_tokens;
        params.cache = no_cache ? fs::path() : cache.empty() ? vision::default_cache_path() : fs::path(cache);
        params.seeds = seeds;
        params.seed = runtime.seed;
        params.shots = shots;
        params.shot_counts = shot_counts;
        params.top_k = top_k;
        params.conformal_score = conformal_score;
        params.conformal_per_class = conformal_per_class;
        params.strategy = strategy;
        params.style = pipeline::parse_style(style);
        params.schema = pipeline::parse_schema(schema);
        params.decide = pipeline::parse_decide_mode(decide);
        params.answer_tokens = runtime.max_tokens;
        params.temperature = runtime.temperature;
        params.rouge = rouge;
        params.limit = limit;
        params.max_megapixels = runtime.max_megapixels;
        params.bootstrap_resamples = bootstrap;
        params.validate();
        return params;
    }
};

// The store of a new run, or of the run being resumed (a new one when DIR has none yet).
eval::RunStore open_store(const fs::path & file, bool resume, const nlohmann::ordered_json & settings) {
    if (resume && fs::exists(file)) {
        return eval::RunStore::resume(file, settings);
    }
    if (fs::exists(file)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("--out '{}' already holds a run ({}): continue it with --resume, or choose another folder",
                                file.parent_path().string(), file.filename().string()));
    }
    return eval::RunStore::create(file, settings);
}

void print_tables(const fs::path & report_md) {
    std::ifstream file(report_md);
    std::stringstream text;
    text << file.rdbuf();
    std::fputs(text.str().c_str(), stdout);
}

struct ShardRun {
    eval::Shard shard;
    fs::path out;  // the run folder of this process
};

// The shard and its run folder: --out itself for i/n, --out/shard-i-of-n for a launcher's shard.
ShardRun resolve_shard(const EvalOptions & options) {
    if (options.shard != "auto") {
        if (options.shards != 0) {
            throw Error(ErrorKind::InvalidArgument, "--shards goes with --shard auto (with i/n, n is the count)");
        }
        return {eval::parse_shard(options.shard), options.out};
    }
    const eval::LauncherShard detected = eval::detect_launcher_shard(
        eval::process_environment(), options.shards != 0 ? std::optional<std::size_t>(options.shards) : std::nullopt);
    const fs::path out = fs::path(options.out) / eval::shard_folder_name(detected.shard);
    std::fprintf(stderr, "eval: shard %zu/%zu from %s (%s): %s\n", detected.shard.index + 1, detected.shard.count,
                 detected.launcher.c_str(), detected.source.c_str(), out.c_str());
    eval::refuse_other_split(options.out, detected.shard, detected.launcher + ": " + detected.source);
    return {detected.shard, out};
}

int run_eval(const EvalOptions & options) {
    const eval::EvalParams params = options.params();
    const ShardRun shard_run = resolve_shard(options);
    const eval::Shard & shard = shard_run.shard;
    const fs::path & out = shard_run.out;
    eval::RunStore::refuse_if_locked(out / "run.sqlite");  // before the slow start: hashing the model
    const auto protocol = eval::make_protocol(params.protocol);
    eval::EvalSession session(params);
    // Planned first: a protocol that refuses the dataset leaves no run folder behind.
    const std::size_t planned_in_shard = [&] {
        std::size_t n = 0;
        for (const auto & item : protocol->plan(session)) {
            n += eval::in_shard(shard, item.image_ordinal) ? 1 : 0;
        }
        return n;
    }();
    const std::string model_sha256 = sha256_model_file(params.vlm.model_path);
    eval::RunStore store = open_store(out / "run.sqlite", options.resume,
                                      params.settings(model_sha256, session.encoder().mmproj_sha256));
    store.record_plan({shard, params.limit, planned_in_shard});
    ProgressLine progress(fmt::format("eval {}", params.protocol), planned_in_shard, "samples", std::chrono::seconds(10));
    session.set_progress([&](const std::string & message) { progress.message("eval: " + message); });
    const auto start = Clock::now();
    const eval::RunCounts counts = eval::run_plan(*protocol, session, store, shard,
                                                  [&](const eval::RunCounts & c, const std::string & failure) {
        if (!failure.empty()) {
            progress.message(fmt::format("dermlens: error: {}", failure));
        }
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        const std::size_t done = c.already_done + c.ran;
        progress.update(done, fmt::format("failed {}", c.failed), seconds > 0 ? static_cast<double>(c.ran) / seconds : 0,
                        c.in_shard - done);
    });
    const eval::ReportFiles files = eval::write_run_report(out, *protocol, session, store);
    if (options.runtime.json) {
        print_tables(out / "summary.json");
    } else {
        print_tables(out / "report.md");
    }
    std::fprintf(stderr, "eval %s: %zu samples in this shard: %zu stored before, %zu evaluated now, %zu failed; wrote %zu files to %s\n",
                 params.protocol.c_str(), counts.in_shard, counts.already_done, counts.ran, counts.failed,
                 files.written.size(), out.c_str());
    return counts.failed == 0 ? 0 : 1;
}

}  // namespace

void register_eval(CLI::App & root, std::vector<Command> & commands) {
    auto options = std::make_shared<EvalOptions>();
    auto * app = root.add_subcommand(
        "eval", fmt::format("Run a paper's evaluation protocol over a manifest's test images into a resumable run folder "
                            "(protocols: {}; `eval merge` combines shards)",
                            fmt::join(eval::protocol_names(), ", ")));
    // Not marked required: `eval merge` needs none of them (params() checks them for a run).
    app->add_option("--protocol", options->protocol, fmt::format("One of: {}", fmt::join(eval::protocol_names(), ", ")));
    app->add_option("--manifest", options->manifest,
                    "CSV (image,label[,split,patient_id,...]) or folder of class folders; no split column: a seeded "
                    "split grouped by patient, 6:2:2; skinvl-vqa: a JSON Lines file of image, question, answer, "
                    "modality");
    app->add_option("--model,-m", options->model, "GGUF text model (e.g. MedGemma-4B)")->envname("DERMLENS_MODEL");
    app->add_option("--mmproj", options->mmproj, "GGUF vision projector belonging to the model")->envname("DERMLENS_MMPROJ");
    app->add_option("--out", options->out, "Run folder: run.sqlite, samples.jsonl, summary.json, summary.csv, report.md, plots");
    app->add_flag("--resume", options->resume, "Continue the run in --out: samples already stored are not evaluated again");
    app->add_option("--limit", options->limit, "Evaluate only the first N test images (0: all)")->capture_default_str();
    app->add_option("--shard", options->shard,
                    "Evaluate the i-th of n parts of the test images (1-based, e.g. 2/4); auto: the part the launcher "
                    "(Slurm array, Open MPI, MPICH, Kubernetes Indexed Job, torchrun) gives, into --out/shard-i-of-n; "
                    "combine with `eval merge`")
        ->capture_default_str();
    app->add_option("--shards", options->shards,
                    "With --shard auto: the number of shards when the launcher does not say (a Kubernetes Indexed "
                    "Job's completions; or set DERMLENS_SHARDS)");
    app->add_option("--seeds", options->seeds, "Runs per configuration (seeds --seed, --seed + 1, ...): mean ± std")
        ->capture_default_str();
    app->add_option("--shots", options->shots, "Images per class of the probe whose top-k the VLM re-ranks")
        ->capture_default_str();
    app->add_option("--shot-counts", options->shot_counts, "paper000-shots: the shots to compare")
        ->delimiter(',')
        ->capture_default_str();
    app->add_option("--top-k", options->top_k, "Candidates the probe proposes")->capture_default_str();
    app->add_option("--score", options->conformal_score,
                    "Conformal score of the probes' sets: lac, aps, raps, aps-plain (docs/probes.md)")
        ->capture_default_str();
    app->add_flag("--per-class", options->conformal_per_class,
                  "Class-conditional (Mondrian) conformal sets: coverage >= 1 - alpha for every class");
    app->add_option("--strategy", options->strategy,
                    "granularity, fairness: the pipeline strategy scored (direct, in-context, describe-then-decide, "
                    "topk, combined; the last two on an --shots probe)")
        ->capture_default_str();
    app->add_option("--style", options->style, "Prompt wording: dermlens, skinvl, skin-r1, skinflow")->capture_default_str();
    app->add_option("--schema", options->schema, "Description schema of describe-then-decide: five-criteria, skinflow")
        ->capture_default_str();
    app->add_option("--decide", options->decide, "score: option probabilities in one step; generate: a parsed free answer")
        ->capture_default_str();
    app->add_option("--rouge", options->rouge,
                    "skinvl-vqa: ROUGE-L as sentence-level LCS F1 (sentence) or pltrdy's summary-level variant that "
                    "paper 001's numbers used (summary)")
        ->capture_default_str();
    app->add_option("--cache", options->cache,
                    "Embedding cache: encodings are stored and reused (default: ~/.cache/dermlens/embeddings.sqlite)")
        ->envname("DERMLENS_EMBEDDING_CACHE");
    app->add_flag("--no-cache", options->no_cache, "Encode every image, store nothing");
    app->add_option("--bootstrap", options->bootstrap, "Bootstrap resamples of the 95% intervals")->capture_default_str();
    app->add_option("--label-set", options->classes.label_set, "The knowledge base's label set of the dataset's classes");
    add_kb_overlay_option(*app, options->classes);
    add_runtime_options(*app, options->runtime);
    register_eval_merge(*app, commands);  // before eval itself: main runs the first parsed command
    commands.push_back({app, [options] { return run_eval(*options); }});
}

}  // namespace dermlens::cli
