// POST /v1/chat/completions: the OpenAI-compatible subset llama-server accepts for images
// (`image_url` content parts holding a data URI), answered by Engine::generate, so that
// existing OpenAI clients can ask free questions about an image. Unknown sampling keys are
// ignored, as OpenAI clients send many; what dermlens cannot honour (streaming, n > 1, a second
// image, an image URL) is refused naming the key.
#include "request_parsing.h"
#include "server_state.h"

#include <fmt/format.h>

#include <ctime>

namespace dermlens::server {
namespace {

using nlohmann::ordered_json;

void observe(Metrics & metrics, const GeneratedText & generated, bool with_image) {
    if (with_image) {
        metrics.count_encoding(generated.image_from_cache);
        if (!generated.image_from_cache) metrics.observe_stage("encode", generated.encode_ms / 1000);
    }
    metrics.observe_stage("prefill", generated.prefill_ms / 1000);
    metrics.observe_stage("decode", generated.decode_ms / 1000);
}

ordered_json completion_json(const ServerState & state, const GeneratedText & generated, std::uint64_t id) {
    return {{"id", fmt::format("chatcmpl-{}", id)},
            {"object", "chat.completion"},
            {"created", static_cast<long long>(std::time(nullptr))},
            {"model", state.engine_params.model.filename().string()},
            {"choices",
             {{{"index", 0},
               {"message", {{"role", "assistant"}, {"content", generated.text}}},
               {"finish_reason", generated.finish_reason}}}},
            {"usage",
             {{"prompt_tokens", generated.prompt_tokens},
              {"completion_tokens", generated.completion_tokens},
              {"total_tokens", generated.prompt_tokens + generated.completion_tokens}}}};
}

void chat(ServerState & state, const httplib::Request & req, httplib::Response & res) {
    if (!state.ready) {
        send_error(res, unavailable("Loading model"));
        return;
    }
    if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
        send_error(res, unsupported_media("send the conversation as application/json"));
        return;
    }
    GenerateRequest call;
    try {
        call = chat_request_from_json(req.body, image_limits(state.params));
    } catch (const Error & e) {
        if (e.field().find("image_url") != std::string::npos) state.metrics.count_refused_image("bad_base64");
        throw;
    }
    const bool with_image = call.image.has_value();
    const std::uint64_t id = state.next_id++;
    const auto outcome = run_inference<ordered_json>(state, req, [&state, request = std::move(call), with_image, id](
                                                               const ShouldStopCallback & stop) mutable {
        request.should_stop = stop;
        GeneratedText generated;
        try {
            generated = state.engine->generate(request);
        } catch (const Error & e) {
            if (e.kind() == ErrorKind::InvalidInput && with_image) state.metrics.count_refused_image("invalid_image");
            throw;
        }
        observe(state.metrics, generated, with_image);
        return completion_json(state, generated, id);
    });
    send_outcome(state, res, outcome);
}

}  // namespace

void add_chat_route(ServerState & state) {
    state.http.Post("/v1/chat/completions", guarded([&state](const httplib::Request & req, httplib::Response & res) {
        chat(state, req, res);
    }));
}

}  // namespace dermlens::server
