#include "engine/generate.h"

#include "dermlens/error.h"

#include <fmt/format.h>

namespace dermlens {
namespace {

model::ChatTurn::Role role_of(const ChatMessage & message, std::size_t index) {
    if (message.role == "system") {
        return model::ChatTurn::Role::System;
    }
    if (message.role == "user") {
        return model::ChatTurn::Role::User;
    }
    if (message.role == "assistant") {
        return model::ChatTurn::Role::Assistant;
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("messages[{}].role: '{}' is not system, user or assistant", index, message.role),
                "messages");
}

}  // namespace

void GenerateRequest::validate() const {
    if (messages.empty()) {
        throw Error(ErrorKind::InvalidArgument, "messages: a conversation needs at least one message", "messages");
    }
    for (std::size_t i = 0; i < messages.size(); ++i) {
        role_of(messages[i], i);
    }
    if (messages.back().role != "user") {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("messages: the last message must be the user's (it is the {}'s)", messages.back().role),
                    "messages");
    }
    if (max_tokens < 1) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("max_tokens {}: must be 1 or more", max_tokens), "max_tokens");
    }
    if (!(temperature >= 0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("temperature {}: must be 0 or more", temperature),
                    "temperature");
    }
}

namespace engine {

model::ChatPrompt chat_prompt(const GenerateRequest & request, const std::string & image_marker) {
    model::ChatPrompt prompt;
    bool marked = image_marker.empty();
    for (std::size_t i = 0; i < request.messages.size(); ++i) {
        const ChatMessage & message = request.messages[i];
        const model::ChatTurn::Role role = role_of(message, i);
        if (!marked && role == model::ChatTurn::Role::User) {
            prompt.turns.push_back({role, image_marker + "\n" + message.text});
            marked = true;
            continue;
        }
        prompt.turns.push_back({role, message.text});
    }
    prompt.answer_lead = request.answer_lead;
    return prompt;
}

model::DecodeParams decode_params(const GenerateRequest & request) {
    return {request.max_tokens, request.grammar, request.temperature, request.seed};
}

GeneratedText generated_text(const model::Generation & generation, int image_tokens) {
    GeneratedText out;
    out.text = generation.text;
    out.finish_reason = generation.stop_reason == model::StopReason::EndOfGeneration ? "stop" : "length";
    out.prompt_tokens = generation.prompt_tokens;
    out.image_tokens = image_tokens;
    out.completion_tokens = static_cast<int>(generation.tokens.size());
    out.prefill_ms = generation.timings.prefill_ms;
    out.decode_ms = generation.timings.decode_ms;
    out.total_ms = generation.timings.total_ms;
    return out;
}

}  // namespace engine
}  // namespace dermlens
