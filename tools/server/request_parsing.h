// The server's request bodies read into dermlens's own requests: a diagnose call's JSON body or
// multipart form fields into its image and options (dermlens/request_json.h reads the options),
// a chat completions body into a GenerateRequest. Neither HTTP nor a model here: the routes
// (diagnose_route.cpp, chat_route.cpp) pass the body and the image limits, and the fuzz harness
// tests/fuzz/fuzz_server_request.cpp reaches all of it. Every refusal is Error(InvalidArgument)
// naming the field (an image that is no image: Error(InvalidInput) when it is decoded).
#pragma once

#include "dermlens/engine.h"
#include "dermlens/image.h"
#include "dermlens/quality_gate.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::server {

struct DiagnoseCall {
    std::optional<Image> image;
    nlohmann::json options = nlohmann::json::object();
    bool heatmap = false;
    QualityGate quality = QualityGate::Report;  // "quality", as diagnose --quality
};

// One part of a multipart/form-data body, as cpp-httplib parsed it.
struct FormField {
    std::string name;
    std::string filename;
    std::string content;
};

// The fields: `image` (the file), `heatmap`, and the options, each at most once.
DiagnoseCall diagnose_call_from_form(const std::vector<FormField> & fields, const DecodeLimits & limits);

// {"image": data URI or base64, "heatmap": bool, options...}.
DiagnoseCall diagnose_call_from_json(std::string_view body, const DecodeLimits & limits);

// The OpenAI-compatible subset llama-server accepts for images: messages with text and at most one
// `image_url` data URI (in a user message), max_tokens / max_completion_tokens, temperature, seed,
// grammar; stream and n > 1 refused, other keys ignored. The request is validated.
GenerateRequest chat_request_from_json(std::string_view body, const DecodeLimits & limits);

}  // namespace dermlens::server
