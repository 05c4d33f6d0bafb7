// A GenerateRequest (dermlens/engine.h) in the model's terms: its fields checked, its messages
// turned into the chat prompt the model continues, the model's generation into the reply.
#pragma once

#include "dermlens/engine.h"
#include "model/vlm.h"

namespace dermlens::engine {

// The request's conversation; with `image_marker` non-empty, the marker opens the first user
// message (where the image goes).
model::ChatPrompt chat_prompt(const GenerateRequest & request, const std::string & image_marker);

model::DecodeParams decode_params(const GenerateRequest & request);

GeneratedText generated_text(const model::Generation & generation, int image_tokens);

}  // namespace dermlens::engine
