// dermlens serve -m MODEL --mmproj MMPROJ [--probe P] [--host 127.0.0.1] [--port 8080]
//   [--parallel N] [--queue N] [--timeout S] [--api-key KEY] [--cors-origin ORIGIN]...
//   [--cache DB] [--attention] [--max-body-mb MB] [--max-megapixels MP] [--kb DIR]...
// The Engine behind an HTTP API and the web page of data/web/ (docs/server.md; tools/server/).
// SIGTERM or SIGINT drains: new requests get 503, those admitted finish, then it exits 0.
#include "commands.h"
#include "diagnose_flow.h"

#include "common/data_dir.h"
#include "server.h"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <pthread.h>
#include <thread>
#include <unistd.h>

namespace dermlens::cli {
namespace {

namespace fs = std::filesystem;

struct ServeOptions {
    std::string model;
    std::string mmproj;
    std::string probe;
    std::string cache;  // empty: a cache of this run's own, removed at exit
    std::vector<std::string> kb_overlays;
    bool attention = false;
    double max_body_mb = 32;
    RuntimeOptions runtime;
    server::ServerParams server;
};

// The embedding cache of a run without --cache: a file of its own, so that the same image
// bytes are encoded once however many requests ask about them.
struct RunCache {
    fs::path path;
    RunCache() : path(fs::temp_directory_path() / fmt::format("dermlens-serve-{}.sqlite", getpid())) {}
    ~RunCache() {
        std::error_code ignored;
        for (const char * suffix : {"", "-wal", "-shm", "-journal"}) {
            fs::remove(path.string() + suffix, ignored);
        }
    }
};

EngineParams engine_params(const ServeOptions & options, const fs::path & cache) {
    EngineParams params;
    params.model = options.model;
    params.mmproj = options.mmproj;
    params.probe = options.probe;
    params.embedding_cache = cache;
    params.kb_overlays.assign(options.kb_overlays.begin(), options.kb_overlays.end());
    params.capture_attention = options.attention;
    options.runtime.fill(params);
    params.validate();
    return params;
}

int run_serve(ServeOptions options) {
    if (!(options.max_body_mb >= 0.001)) {
        throw Error(ErrorKind::InvalidArgument, "--max-body-mb must be positive");
    }
    options.server.max_body_bytes = static_cast<std::size_t>(options.max_body_mb * 1024 * 1024);
    options.server.max_megapixels = options.runtime.max_megapixels;
    std::optional<RunCache> run_cache;
    if (options.cache.empty()) run_cache.emplace();
    // Every thread started from here on inherits the blocked signals: the waiter below takes them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    server::Server server(options.server, engine_params(options, run_cache ? run_cache->path : fs::path(options.cache)));
    const int port = server.bind();
    std::printf("dermlens serve: listening on http://%s:%d/ (loading the model)\n", options.server.host.c_str(), port);
    std::fflush(stdout);
    std::thread waiter([&server, signals] {
        int signal = 0;
        sigwait(&signals, &signal);
        std::fprintf(stderr, "dermlens serve: %s: draining\n", signal == SIGTERM ? "SIGTERM" : "SIGINT");
        server.stop();
    });
    try {
        server.serve();
    } catch (...) {
        kill(getpid(), SIGTERM);  // wake the waiter, which stops nothing more
        waiter.join();
        throw;
    }
    waiter.join();
    std::fprintf(stderr, "dermlens serve: stopped\n");
    return 0;
}

}  // namespace

void register_serve(CLI::App & root, std::vector<Command> & commands) {
    auto options = std::make_shared<ServeOptions>();
    auto * app = root.add_subcommand("serve", "Serve the Engine over HTTP: /v1/diagnose, /v1/chat/completions, /v1/info, "
                                              "/health, /metrics, and the web page at / (docs/server.md)");
    app->add_option("--model,-m", options->model, "GGUF text model")->required()->envname("DERMLENS_MODEL");
    app->add_option("--mmproj", options->mmproj, "GGUF vision projector belonging to the model")
        ->required()
        ->envname("DERMLENS_MMPROJ");
    app->add_option("--probe", options->probe, "Few-shot probe of this mmproj's encoder (dermlens probe train)");
    app->add_option("--cache", options->cache,
                    "Embedding cache (SQLite) kept across runs; default: one of this run's own, removed at exit");
    app->add_option("--kb", options->kb_overlays, "Knowledge-base folder extending the shipped one (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app->add_flag("--attention", options->attention,
                  "Capture attention, so that requests may ask for attention statistics and heat maps (text model's "
                  "flash attention off)");
    auto & server = options->server;
    app->add_option("--host", server.host, "Address to listen on")->capture_default_str()->envname("DERMLENS_HOST");
    app->add_option("--port", server.port, "Port to listen on (0: any free port)")
        ->capture_default_str()
        ->envname("DERMLENS_PORT");
    app->add_option("--parallel", server.parallel,
                    "Inference requests run at once, each on a decoding session (KV cache) of its own on the one "
                    "loaded model; --threads is shared among them")
        ->capture_default_str();
    app->add_option("--queue", server.queue_size, "Inference requests waiting behind them; more get 429")
        ->capture_default_str();
    app->add_option("--timeout", server.timeout_s, "Seconds a request may take, queue time included; then 503")
        ->capture_default_str();
    app->add_option("--api-key", server.api_key, "Key every /v1 and /metrics request must give (Bearer or X-Api-Key)")
        ->envname("DERMLENS_API_KEY");
    app->add_option("--cors-origin", server.cors_origins, "Origin allowed to call the API from a browser (repeatable; *: any)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app->add_option("--max-body-mb", options->max_body_mb, "Largest request body in MiB; bigger: 413")->capture_default_str();
    app->add_option("--web", server.web_dir, "Folder of the web page served at / (default: the data folder's web/)");
    add_engine_options(*app, options->runtime);
    commands.push_back({app, [options] { return run_serve(*options); }});
}

}  // namespace dermlens::cli
