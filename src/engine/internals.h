// What the layers above the Engine (the evaluation protocols, which train their own probes
// per shots and seed and score the model directly) reach inside it for. Not public API.
#pragma once

#include "dermlens/engine.h"
#include "model/vlm.h"

namespace dermlens {

struct EngineInternals {
    static model::Vlm & vlm(Engine & engine);
    static const model::ImageEncoding & encoding(const EncodedImage & encoded);
};

}  // namespace dermlens
