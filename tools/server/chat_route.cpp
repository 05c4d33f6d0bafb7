// POST /v1/chat/completions: the OpenAI-compatible subset llama-server accepts for images
// (`image_url` content parts holding a data URI), answered by Engine::generate, so that
// existing OpenAI clients can ask free questions about an image. Unknown sampling keys are
// ignored, as OpenAI clients send many; what dermlens cannot honour (streaming, n > 1, a second
// image, an image URL) is refused naming the key.
#include "data_uri.h"
#include "server_state.h"

#include <fmt/format.h>

#include <ctime>

namespace dermlens::server {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

[[noreturn]] void refuse(const std::string & field, const std::string & reason) {
    throw Error(ErrorKind::InvalidArgument, fmt::format("{}: {}", field, reason), field);
}

std::string image_url_of(const json & part, const std::string & field) {
    const json & url = part.contains("image_url") ? part["image_url"] : json();
    if (url.is_string()) return url.get<std::string>();
    if (url.is_object() && url.contains("url") && url["url"].is_string()) return url["url"].get<std::string>();
    refuse(field + ".image_url", "expected {\"url\": \"data:image/...;base64,...\"}");
}

// One message's text, its image parts decoded into `call` (at most one image per request).
std::string message_text(const json & content, const std::string & field, bool from_user, GenerateRequest & call,
                         const ServerParams & params) {
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) refuse(field, "expected a string or an array of content parts");
    std::string text;
    for (std::size_t i = 0; i < content.size(); ++i) {
        const json & part = content[i];
        const std::string where = fmt::format("{}[{}]", field, i);
        const std::string type = part.is_object() && part.contains("type") && part["type"].is_string()
                                     ? part["type"].get<std::string>() : std::string();
        if (type == "text") {
            if (!part.contains("text") || !part["text"].is_string()) refuse(where + ".text", "expected a string");
            if (!text.empty()) text += '\n';
            text += part["text"].get_ref<const std::string &>();
        } else if (type == "image_url") {
            if (!from_user) refuse(where, "only a user message may hold an image");
            if (call.image) refuse(where, "one image per request: dermlens answers about one image");
            const auto bytes = decode_image_field(image_url_of(part, where), where + ".image_url.url");
            call.image = Image::from_bytes(bytes, "upload", image_limits(params));
        } else {
            refuse(where + ".type", fmt::format("expected \"text\" or \"image_url\", got '{}'", type));
        }
    }
    return text;
}

int whole(const json & value, const std::string & field, int low, int high) {
    if (!value.is_number_integer() || value.get<long long>() < low || value.get<long long>() > high) {
        refuse(field, fmt::format("expected a whole number {}..{}", low, high));
    }
    return value.get<int>();
}

GenerateRequest parse_chat(const httplib::Request & req, const ServerParams & params) {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) refuse("body", "not valid JSON");
    if (!body.is_object()) refuse("body", "expected a JSON object");
    if (body.value("stream", false) != false) refuse("stream", "streaming is not supported: send stream false");
    if (body.contains("n") && body["n"] != 1) refuse("n", "one choice per request");
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
        refuse("messages", "expected a non-empty array of messages");
    }
    GenerateRequest call;
    const json & messages = body["messages"];
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const std::string field = fmt::format("messages[{}]", i);
        const json & message = messages[i];
        if (!message.is_object() || !message.contains("role") || !message["role"].is_string()) {
            refuse(field + ".role", "expected a string: system, user or assistant");
        }
        const std::string role = message["role"].get<std::string>();
        const json content = message.contains("content") ? message["content"] : json();
        call.messages.push_back({role, message_text(content, field + ".content", role == "user", call, params)});
    }
    if (body.contains("max_completion_tokens")) {
        call.max_tokens = whole(body["max_completion_tokens"], "max_completion_tokens", 1, 4096);
    } else if (body.contains("max_tokens")) {
        call.max_tokens = whole(body["max_tokens"], "max_tokens", 1, 4096);
    }
    if (body.contains("temperature")) {
        if (!body["temperature"].is_number()) refuse("temperature", "expected a number");
        call.temperature = body["temperature"].get<float>();
    }
    if (body.contains("seed")) {
        call.seed = static_cast<std::uint32_t>(whole(body["seed"], "seed", 0, 2147483647));
    }
    if (body.contains("grammar")) {
        if (!body["grammar"].is_string()) refuse("grammar", "expected a GBNF grammar as a string");
        call.grammar = body["grammar"].get<std::string>();
    }
    call.validate();
    return call;
}

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
        call = parse_chat(req, state.params);
    } catch (const Error & e) {
        if (e.field().find("image_url") != std::string::npos) state.metrics.count_refused_image("bad_base64");
        throw;
    }
    const bool with_image = call.image.has_value();
    const std::uint64_t id = state.next_id++;
    auto outcome = run_inference<ordered_json>(state, req, [&state, request = std::move(call), with_image, id](
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
    if (outcome.error) {
        send_refusal(state, res, *outcome.error);
        return;
    }
    send_json(res, 200, *outcome.result);
}

}  // namespace

void add_chat_route(ServerState & state) {
    state.http.Post("/v1/chat/completions", guarded([&state](const httplib::Request & req, httplib::Response & res) {
        chat(state, req, res);
    }));
}

}  // namespace dermlens::server
