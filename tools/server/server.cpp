#include "server_state.h"

#include "common/data_dir.h"
#include "model/gguf_check.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <sys/socket.h>
#include <thread>

namespace dermlens::server {
namespace {

using nlohmann::ordered_json;

// The endpoint a path belongs to, as /metrics labels it (names, not the user's raw paths).
std::string endpoint_of(const std::string & path) {
    static const char * const kEndpoints[] = {"/health", "/metrics", "/v1/info", "/v1/diagnose", "/v1/chat/completions"};
    for (const char * endpoint : kEndpoints) {
        if (path == endpoint) return endpoint;
    }
    if (path.rfind("/v1/kb/conditions/", 0) == 0) return "/v1/kb/conditions";
    if (path.rfind("/v1/kb/labelsets/", 0) == 0) return "/v1/kb/labelsets";
    if (path.rfind("/v1/", 0) == 0) return "other";
    return "static";
}

// /health and the page are public even with an API key, as llama-server's /health is.
bool needs_key(const std::string & path) {
    return path.rfind("/v1/", 0) == 0 || path == "/metrics";
}

// Compares the SHA-256 of both, so that neither the key's bytes nor its length shows in the time taken.
bool same_key(const std::string & given, const std::string & key) {
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char *>(given.data()), given.size(), a);
    SHA256(reinterpret_cast<const unsigned char *>(key.data()), key.size(), b);
    return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

std::string given_key(const httplib::Request & req) {
    const std::string bearer = req.get_header_value("Authorization");
    if (bearer.rfind("Bearer ", 0) == 0) {
        return bearer.substr(7);
    }
    return req.get_header_value("X-Api-Key");
}

// CORS is off unless --cors-origin names the origin (or "*"): then the answer allows it.
bool allow_origin(const ServerParams & params, const httplib::Request & req, httplib::Response & res) {
    const std::string origin = req.get_header_value("Origin");
    const auto & allowed = params.cors_origins;
    const bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
    if (origin.empty() || (!any && std::find(allowed.begin(), allowed.end(), origin) == allowed.end())) {
        return false;
    }
    res.set_header("Access-Control-Allow-Origin", any ? "*" : origin);
    res.set_header("Vary", "Origin");
    return true;
}

httplib::Server::HandlerResponse before_routing(ServerState & state, const httplib::Request & req,
                                                httplib::Response & res) {
    const bool cors = allow_origin(state.params, req, res);
    if (req.method == "OPTIONS") {
        if (cors) {
            res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            res.set_header("Access-Control-Allow-Headers", "Authorization, X-Api-Key, Content-Type");
            res.set_header("Access-Control-Max-Age", "600");
        }
        res.status = cors ? 204 : 403;
        if (!cors) send_error(res, {403, "permission_error", "cross-origin requests are not allowed (--cors-origin)"});
        return httplib::Server::HandlerResponse::Handled;
    }
    if (state.draining) {
        res.set_header("Connection", "close");
        send_error(res, unavailable("the server is shutting down"));
        return httplib::Server::HandlerResponse::Handled;
    }
    if (!state.params.api_key.empty() && needs_key(req.path) && !same_key(given_key(req), state.params.api_key)) {
        send_error(res, unauthorized());
        return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
}

}  // namespace

void ServerParams::validate() const {
    const auto refuse = [](const char * field, const std::string & reason) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("{}: {}", field, reason), field);
    };
    if (port < 0 || port > 65535) refuse("port", fmt::format("{} is not a TCP port (0..65535)", port));
    if (parallel < 1) refuse("parallel", "must be at least 1");
    if (queue_size < 1) refuse("queue_size", "must be at least 1");
    if (retry_after_s < 1) refuse("retry_after_s", "must be at least 1");
    if (!(timeout_s > 0)) refuse("timeout_s", "must be positive");
    if (max_body_bytes < 1024) refuse("max_body_bytes", "must be at least 1024");
    if (!(max_megapixels > 0)) refuse("max_megapixels", "must be positive");
}

LiveGauges ServerState::live() const {
    LiveGauges gauges;
    gauges.ready = ready;
    gauges.queue_waiting = queue->waiting();
    gauges.in_flight = queue->running();
    gauges.sessions_busy = ready ? engine->info().busy_sessions : 0;
    return gauges;
}

void send_json(httplib::Response & res, int status, const ordered_json & body) {
    res.status = status;
    // Generated text can end inside a UTF-8 sequence (the token budget ran out): sent as U+FFFD.
    res.set_content(body.dump(-1, ' ', false, ordered_json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response & res, const ApiError & error) {
    send_json(res, error.status, error.body());
}

DecodeLimits image_limits(const ServerParams & params) {
    return DecodeLimits{static_cast<std::uint64_t>(params.max_megapixels * 1e6), params.max_body_bytes};
}

void send_outcome(const ServerState & state, httplib::Response & res, const Outcome<nlohmann::ordered_json> & outcome) {
    if (outcome.result) {
        send_json(res, 200, *outcome.result);
        return;
    }
    if (outcome.error->status == 429) {
        res.set_header("Retry-After", std::to_string(state.params.retry_after_s));
    }
    send_error(res, *outcome.error);
}

httplib::Server::Handler guarded(Handler handler) {
    return [handler = std::move(handler)](const httplib::Request & req, httplib::Response & res) {
        try {
            handler(req, res);
        } catch (const Error & e) {
            send_error(res, api_error(e));
        } catch (const std::exception & e) {
            send_error(res, {500, "server_error", e.what()});
        }
    };
}

Server::Server(ServerParams params, EngineParams engine) : state_(std::make_unique<ServerState>(std::move(params), std::move(engine))) {
    state_->params.validate();
    state_->engine_params.parallel = state_->params.parallel;  // one decoding session per worker
    state_->engine_params.validate();
    ServerState & state = *state_;
    const auto workers = static_cast<std::size_t>(state.params.parallel);
    state.queue = std::make_unique<WorkQueue>(workers, static_cast<std::size_t>(state.params.queue_size));
    // HTTP threads: the admitted requests wait in theirs, the rest answer at once (429, /health, the page).
    const std::size_t http_threads = workers + static_cast<std::size_t>(state.params.queue_size) + 16;
    state.http.new_task_queue = [http_threads] { return new httplib::ThreadPool(http_threads); };
    // httplib 0.11 listens with a backlog of 5: a burst of clients overflows it and the kernel
    // resets connections. The listening socket is kept here to widen the backlog once bound.
    state.http.set_socket_options([&state](socket_t sock) {
        httplib::default_socket_options(sock);
        state.listening_socket = sock;
    });
    state.http.set_payload_max_length(state.params.max_body_bytes);
    state.http.set_read_timeout(10);
    state.http.set_keep_alive_timeout(2);
    state.http.set_pre_routing_handler([&state](const httplib::Request & req, httplib::Response & res) {
        return before_routing(state, req, res);
    });
    state.http.set_error_handler([](const httplib::Request & req, httplib::Response & res) {
        if (res.body.empty()) {  // httplib's own refusals (unknown path, 413, malformed request): the one shape
            const std::string message = res.status == 404   ? fmt::format("no endpoint {} {}", req.method, req.path)
                                        : res.status == 413 ? "the request body is larger than the server's limit (--max-body-mb)"
                                                            : fmt::format("HTTP {}: the request was malformed or incomplete", res.status);
            send_error(res, {res.status, error_type_of_status(res.status), message});
        }
    });
    state.http.set_logger([&state](const httplib::Request & req, const httplib::Response & res) {
        state.metrics.count_request(endpoint_of(req.path), res.status);
        if (res.status == 413 && (req.path == "/v1/diagnose" || req.path == "/v1/chat/completions")) {
            state.metrics.count_refused_image("body_too_large");
        }
    });
    add_info_routes(state);
    add_diagnose_route(state);
    add_chat_route(state);
    const std::filesystem::path web = state.params.web_dir.empty()
                                          ? (state.engine_params.data_dir.empty() ? data_dir() : state.engine_params.data_dir) / "web"
                                          : state.params.web_dir;
    if (!state.http.set_mount_point("/", web.string())) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("web_dir '{}': no such folder", web.string()), "web_dir");
    }
}

Server::~Server() {
    stop();
}

int Server::bind() {
    ServerState & state = *state_;
    const int port = state.params.port == 0 ? state.http.bind_to_any_port(state.params.host)
                                            : (state.http.bind_to_port(state.params.host, state.params.port) ? state.params.port : -1);
    if (port > 0 && state.listening_socket >= 0) {
        ::listen(state.listening_socket, SOMAXCONN);
    }
    if (port <= 0) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)", state.params.host,
                                state.params.port),
                    "port");
    }
    return port;
}

void Server::serve() {
    ServerState & state = *state_;
    std::exception_ptr load_failure;
    std::thread loader([&state, &load_failure] {
        try {
            state.architecture = model::check_text_model(state.engine_params.model).architecture;
            state.engine = std::make_unique<Engine>(state.engine_params);
            state.info = info_json(state);  // once: what it says does not change
            state.ready = true;
            std::fprintf(stderr, "dermlens serve: model loaded, ready\n");
        } catch (...) {
            load_failure = std::current_exception();
            for (int waited = 0; !state.http.is_running() && waited < 500; ++waited) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));  // stop() only stops a running listener
            }
            state.http.stop();
        }
    });
    state.http.listen_after_bind();
    loader.join();
    if (load_failure) {
        std::rethrow_exception(load_failure);
    }
}

void Server::stop() {
    ServerState & state = *state_;
    if (state.draining.exchange(true)) {
        return;
    }
    state.queue->close();
    state.queue->wait_idle();
    // The answers of the last requests are written by their HTTP threads; httplib's stop() joins them.
    state.http.stop();
}

}  // namespace dermlens::server
