// dermlens serve: the Engine behind an HTTP API and a web page (docs/server.md), on Debian's
// cpp-httplib. llama.cpp's tools/server is the convention it follows — its error JSON, /health
// answering 503 while the model loads, /metrics in Prometheus's format, the API key as Bearer or
// X-Api-Key with /health public — and the multimodal weak spots it avoids: the queue is bounded
// (429 with Retry-After when full), a request whose client went away is cancelled, an image is
// encoded once (the embedding cache is shared by every request), and every bad request gets a
// 4xx JSON error while the server keeps serving.
//
// Requests: HTTP threads parse and check a request, then hand the inference to a WorkQueue of
// `parallel` workers, each of which runs its request at once on a decoding session of its own
// (EngineParams::parallel: one loaded model, `parallel` KV caches); the queue bounds how many
// wait behind them.
#pragma once

#include "dermlens/engine.h"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace dermlens::server {

struct ServerParams {
    std::string host = "127.0.0.1";
    int port = 8080;                // 0: any free port (bind() says which)
    int parallel = 1;               // inference requests in flight, each on its own Engine session (sets EngineParams::parallel)
    int queue_size = 16;            // inference requests waiting behind them; more: 429
    int retry_after_s = 5;          // the Retry-After of a 429
    std::string api_key;            // empty: no key; else every /v1 and /metrics request needs it
    std::vector<std::string> cors_origins;  // origins allowed to call the API from a browser ("*": any)
    double timeout_s = 600;         // per inference request, queue time included: then 503
    std::size_t max_body_bytes = 32u << 20;  // bigger bodies: 413 before they are read
    double max_megapixels = 50;     // bigger images: 400, checked from the image header before decoding
    std::filesystem::path web_dir;  // the page served at /; empty: <data_dir>/web

    // Throws Error(InvalidArgument) naming the field: port outside 0..65535, parallel or queue
    // below 1, non-positive timeout, body or megapixel limits.
    void validate() const;
};

struct ServerState;  // tools/server/server_state.h

class Server {
public:
    Server(ServerParams params, EngineParams engine);
    ~Server();
    Server(const Server &) = delete;
    Server & operator=(const Server &) = delete;

    // Binds the listening socket and returns its port. Throws Error(InvalidArgument) naming
    // host and port when it cannot.
    int bind();
    // Loads the Engine (meanwhile /health answers 503) and serves until stop(). Throws the
    // Engine's Error when it cannot load.
    void serve();
    // Refuses new requests (503), lets the queued and running ones finish, then stops serving.
    // Safe from any thread, more than once.
    void stop();

private:
    std::unique_ptr<ServerState> state_;
};

}  // namespace dermlens::server
