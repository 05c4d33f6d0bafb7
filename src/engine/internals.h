// What the layers above the Engine (the evaluation protocols, which train their own probes
// per shots and seed and score the model directly) reach inside it for. Not public API.
#pragma once

#include "dermlens/engine.h"
#include "model/vlm.h"

namespace dermlens {

struct EngineInternals {
    // The first decoding session: for callers that run nothing else on the Engine meanwhile
    // (the evaluation scores one item at a time).
    static model::Vlm & vlm(Engine & engine);
    static const model::ImageEncoding & encoding(const EncodedImage & encoded);
};

}  // namespace dermlens
