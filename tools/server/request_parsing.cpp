#include "request_parsing.h"

#include "data_uri.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace dermlens::server {
namespace {

using nlohmann::json;

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
                         const DecodeLimits & limits) {
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
            call.image = Image::from_bytes(bytes, "upload", limits);
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

bool heatmap_flag(const json & value) {
    if (value.is_boolean()) return value.get<bool>();
    if (value.is_string()) {
        const std::string & text = value.get_ref<const std::string &>();
        if (text == "true" || text == "1" || text == "on") return true;
        if (text == "false" || text == "0" || text == "off" || text.empty()) return false;
    }
    throw Error(ErrorKind::InvalidArgument, "heatmap: expected true or false", "heatmap");
}

QualityGate quality_gate(const json & value) {
    if (!value.is_string()) refuse("quality", "expected \"off\", \"report\" or \"reject\"");
    return parse_quality_gate(value.get<std::string>());
}

}  // namespace

DiagnoseCall diagnose_call_from_form(const std::vector<FormField> & fields, const DecodeLimits & limits) {
    DiagnoseCall call;
    for (const auto & [name, filename, content] : fields) {
        if (name == "image") {
            const auto * data = reinterpret_cast<const std::uint8_t *>(content.data());
            call.image = Image::from_bytes({data, content.size()}, filename.empty() ? "upload" : filename, limits);
        } else if (name == "heatmap") {
            call.heatmap = heatmap_flag(content);
        } else if (name == "quality") {
            call.quality = quality_gate(content);
        } else if (call.options.contains(name)) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("{}: given more than once", name), name);
        } else {
            call.options[name] = content;
        }
    }
    return call;
}

DiagnoseCall diagnose_call_from_json(std::string_view text, const DecodeLimits & limits) {
    json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) {
        throw Error(ErrorKind::InvalidArgument, "request body: not valid JSON", "body");
    }
    if (!body.is_object()) {
        throw Error(ErrorKind::InvalidArgument, "request body: expected a JSON object", "body");
    }
    DiagnoseCall call;
    if (body.contains("image")) {
        if (!body["image"].is_string()) {
            throw Error(ErrorKind::InvalidArgument, "image: expected a string (a data URI or base64)", "image");
        }
        const std::vector<std::uint8_t> bytes = decode_image_field(body["image"].get<std::string>(), "image");
        call.image = Image::from_bytes(bytes, "upload", limits);
        body.erase("image");
    }
    if (body.contains("heatmap")) {
        call.heatmap = heatmap_flag(body["heatmap"]);
        body.erase("heatmap");
    }
    if (body.contains("quality")) {
        call.quality = quality_gate(body["quality"]);
        body.erase("quality");
    }
    call.options = std::move(body);
    return call;
}

GenerateRequest chat_request_from_json(std::string_view text, const DecodeLimits & limits) {
    const json body = json::parse(text, nullptr, false);
    if (body.is_discarded()) refuse("body", "not valid JSON");
    if (!body.is_object()) refuse("body", "expected a JSON object");
    if (body.contains("stream") && !body["stream"].is_boolean()) refuse("stream", "expected true or false");
    if (body.value("stream", false)) refuse("stream", "streaming is not supported: send stream false");
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
        call.messages.push_back({role, message_text(content, field + ".content", role == "user", call, limits)});
    }
    if (body.contains("max_completion_tokens")) {
        call.max_tokens = whole(body["max_completion_tokens"], "max_completion_tokens", 1, 4096);
    } else if (body.contains("max_tokens")) {
        call.max_tokens = whole(body["max_tokens"], "max_tokens", 1, 4096);
    }
    if (body.contains("temperature")) {
        // A double beyond float's range has no float value (converting it is undefined; on IEEE hardware it
        // gives infinity, which the validation's temperature >= 0 lets through).
        const json & temperature = body["temperature"];
        if (!temperature.is_number() || !(std::abs(temperature.get<double>()) <= std::numeric_limits<float>::max())) {
            refuse("temperature", "expected a number");
        }
        call.temperature = static_cast<float>(temperature.get<double>());
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

}  // namespace dermlens::server
