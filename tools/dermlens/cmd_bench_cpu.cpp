// dermlens bench-cpu -m MODEL.gguf --mmproj MMPROJ.gguf [-t N] [--rounds 3] [--json]
// Times flash against plain attention on this CPU at the model pair's real shapes (the vision
// encoder's attention at its token count; the text model's at one prefill ubatch), shows
// every round, the medians and the winner, and remembers the winner in the cache folder's
// store, which `--flash-attn auto` / `--vision-flash-attn auto` then use (docs/pipeline.md).
#include "commands.h"

#include "common/file_hash_cache.h"
#include "dermlens/error.h"
#include "engine/attention_paths.h"
#include "model/gguf_check.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <thread>

namespace dermlens::cli {
namespace {

struct BenchCpuOptions {
    std::string model;
    std::string mmproj;
    int threads = 0;
    int batch_size = 512;
    int context_size = 4096;
    int rounds = 3;
    bool json = false;

    int resolved_threads() const {
        return threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
};

nlohmann::ordered_json measured(const AttentionProbe & probe, const model::AttentionDecision & decision) {
    return {{"graph", probe.key.graph},
            {"shape", probe.shape.describe()},
            {"flash_rounds_ms", decision.flash_rounds},
            {"plain_rounds_ms", decision.plain_rounds},
            {"flash_ms", decision.flash_ms},
            {"plain_ms", decision.plain_ms},
            {"plain_over_flash", decision.plain_ms / decision.flash_ms},
            {"auto_runs", decision.flash ? "on" : "off"},
            {"not_remembered", decision.not_remembered}};
}

void print(const nlohmann::ordered_json & row) {
    std::printf("%s attention (%s)\n", row["graph"].get<std::string>().c_str(), row["shape"].get<std::string>().c_str());
    std::printf("  flash  %s ms  median %.1f ms\n",
                fmt::format("{::.1f}", row["flash_rounds_ms"].get<std::vector<double>>()).c_str(),
                row["flash_ms"].get<double>());
    std::printf("  plain  %s ms  median %.1f ms\n",
                fmt::format("{::.1f}", row["plain_rounds_ms"].get<std::vector<double>>()).c_str(),
                row["plain_ms"].get<double>());
    std::printf("  plain / flash %.2f: auto runs flash attention %s\n", row["plain_over_flash"].get<double>(),
                row["auto_runs"].get<std::string>().c_str());
    if (const auto why = row["not_remembered"].get<std::string>(); !why.empty()) {
        std::printf("  not remembered: %s\n", why.c_str());
    }
}

int run(const BenchCpuOptions & options) {
    if (options.rounds < 1) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("--rounds {}: must be 1 or more", options.rounds));
    }
    model::check_model_pair(options.model, options.mmproj);
    EngineParams params;
    params.model = options.model;
    params.mmproj = options.mmproj;
    params.batch_size = options.batch_size;
    params.context_size = options.context_size;
    params.validate();
    const int threads = options.resolved_threads();
    const model::AttentionStore store = attention_store();
    const AttentionProbe probes[] = {vision_attention_probe(params.mmproj, sha256_model_file(params.mmproj), threads),
                                     text_attention_probe(params.model, sha256_model_file(params.model), params, threads)};
    nlohmann::ordered_json report = {{"cpu", probes[0].key.cpu}, {"threads", threads}, {"store", store.file().string()}};
    if (!options.json) {
        std::printf("CPU: %s\nthreads: %d\n", probes[0].key.cpu.c_str(), threads);
    }
    for (const AttentionProbe & probe : probes) {
        const auto decision = model::choose_attention(probe.key, store, probe.timer(), options.rounds, /*fresh=*/true);
        report["graphs"].push_back(measured(probe, decision));
        if (!options.json) {
            print(report["graphs"].back());
        }
    }
    if (options.json) {
        std::printf("%s\n", report.dump(2).c_str());
    } else {
        std::printf("remembered in %s (used by --flash-attn auto and --vision-flash-attn auto)\n",
                    store.file().string().c_str());
    }
    return 0;
}

}  // namespace

void register_bench_cpu(CLI::App & root, std::vector<Command> & commands) {
    auto options = std::make_shared<BenchCpuOptions>();
    auto * app = root.add_subcommand("bench-cpu",
                                     "Time flash against plain attention on this CPU at a model's shapes and remember "
                                     "the faster (what --flash-attn auto and --vision-flash-attn auto use)");
    app->add_option("-m,--model", options->model, "GGUF text model")->required()->check(CLI::ExistingFile);
    app->add_option("--mmproj", options->mmproj, "GGUF vision projector of the model")->required()->check(CLI::ExistingFile);
    app->add_option("-t,--threads", options->threads, "CPU threads (0: every core), as diagnose -t")
        ->capture_default_str()
        ->envname("DERMLENS_THREADS");
    app->add_option("--batch", options->batch_size, "Logical batch, as diagnose --batch (the text model's shape)")
        ->capture_default_str();
    app->add_option("--ctx", options->context_size, "Context size, as diagnose --ctx")->capture_default_str();
    app->add_option("--rounds", options->rounds, "Timed rounds per path (alternated; medians compared)")
        ->capture_default_str();
    app->add_flag("--json", options->json, "Print the measurement as JSON");
    commands.push_back({app, [options] { return run(*options); }});
}

}  // namespace dermlens::cli
