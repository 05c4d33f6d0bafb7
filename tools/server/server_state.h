// Internal to tools/server: the state the route handlers share, and the one way they answer
// (JSON, or the error shape) and run inference (through the bounded WorkQueue, cancelled when
// the client goes away or the request times out).
#pragma once

#include "api_error.h"
#include "connection_watch.h"
#include "metrics.h"
#include "server.h"
#include "work_queue.h"

#include "dermlens/engine.h"

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace dermlens::server {

struct ServerState {
    ServerParams params;
    EngineParams engine_params;
    httplib::Server http;
    Metrics metrics;
    std::unique_ptr<Engine> engine;  // set once loaded; then `ready`
    std::unique_ptr<WorkQueue> queue;  // after the Engine: its workers are joined before the Engine goes
    std::atomic<bool> ready{false};
    std::atomic<bool> draining{false};
    std::string architecture;
    nlohmann::ordered_json info;  // GET /v1/info, made when the model is loaded
    std::atomic<std::uint64_t> next_id{1};
    int listening_socket = -1;

    ServerState(ServerParams server_params, EngineParams loaded) : params(std::move(server_params)), engine_params(std::move(loaded)) {}

    LiveGauges live() const;
};

void send_json(httplib::Response & res, int status, const nlohmann::ordered_json & body);
void send_error(httplib::Response & res, const ApiError & error);
// The limits an uploaded image is held to: --max-megapixels, and no more bytes than a body may have.
DecodeLimits image_limits(const ServerParams & params);

// A handler that never throws: an Error becomes its status, anything else a 500.
using Handler = std::function<void(const httplib::Request &, httplib::Response &)>;
httplib::Server::Handler guarded(Handler handler);

// What an inference ends with: its result, or the error to answer with.
template <typename Result>
struct Outcome {
    std::optional<Result> result;
    std::optional<ApiError> error;
};

// An inference's answer: its result as 200 JSON, or its error (with Retry-After on a 429).
void send_outcome(const ServerState & state, httplib::Response & res, const Outcome<nlohmann::ordered_json> & outcome);

// Runs `work` on the queue and waits for it; the outcome or the error to answer with. `work`
// gets the should-stop callback: true once the client has gone or the request has timed out.
// The queue full gives 429, the server not ready or draining 503.
template <typename Result>
Outcome<Result> run_inference(ServerState & state, const httplib::Request & req,
                              std::function<Result(const ShouldStopCallback &)> work) {
    struct Shared {
        std::mutex mutex;
        std::condition_variable done_changed;
        bool done = false;
        Outcome<Result> outcome;
        ConnectionWatch watch;
        std::chrono::steady_clock::time_point deadline;
        std::atomic<bool> client_gone{false};
        std::atomic<bool> timed_out{false};

        // Asked by the Engine before the encoder and before every token, and by the waiting handler.
        bool should_stop() {
            if (!client_gone && watch.client_gone()) client_gone = true;
            if (!timed_out && std::chrono::steady_clock::now() > deadline) timed_out = true;
            return client_gone || timed_out;
        }
    };
    auto shared = std::make_shared<Shared>();
    shared->watch = ConnectionWatch(req.remote_addr, req.remote_port, req.local_port);
    shared->deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                               std::chrono::duration<double>(state.params.timeout_s));
    const auto job = [shared, work = std::move(work)] {
        Outcome<Result> outcome;
        try {
            if (shared->should_stop()) {
                throw Error(ErrorKind::Cancelled, "the request was cancelled before it ran");
            }
            outcome.result = work([shared] { return shared->should_stop(); });
        } catch (const Error & e) {
            outcome.error = api_error(e);
        } catch (const std::exception & e) {
            outcome.error = ApiError{500, "server_error", e.what()};
        }
        std::lock_guard lock(shared->mutex);
        shared->outcome = std::move(outcome);
        shared->done = true;
        shared->done_changed.notify_all();
    };
    if (!state.queue->try_submit(job)) {
        return {std::nullopt, state.draining ? unavailable("the server is shutting down") : queue_full()};
    }
    std::unique_lock lock(shared->mutex);
    while (!shared->done_changed.wait_for(lock, std::chrono::milliseconds(100), [&] { return shared->done; })) {
        shared->should_stop();  // a request still queued learns of its client leaving too
    }
    Outcome<Result> outcome = std::move(shared->outcome);
    if (shared->client_gone && outcome.error) {
        outcome.error = ApiError{499, "cancelled", "the client closed the connection; the request was cancelled"};
    } else if (shared->timed_out && outcome.error) {
        outcome.error = unavailable(fmt::format("the request took longer than the server's timeout of {} s and was cancelled",
                                                state.params.timeout_s));
    }
    return outcome;
}

// The answer of GET /v1/info (info_routes.cpp).
nlohmann::ordered_json info_json(const ServerState & state);

// Route registration, one file each.
void add_info_routes(ServerState & state);      // /health, /v1/info, /v1/kb/..., /metrics
void add_diagnose_route(ServerState & state);   // POST /v1/diagnose
void add_chat_route(ServerState & state);       // POST /v1/chat/completions

}  // namespace dermlens::server
