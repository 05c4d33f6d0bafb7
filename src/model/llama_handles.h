// Owning pointers for llama.cpp's C handles, shared by the runtime and its tests.
#pragma once

#include <gguf.h>
#include <llama.h>
#include <mtmd.h>

#include <memory>

namespace dermlens::model {

struct ModelDeleter {
    void operator()(llama_model * model) const { llama_model_free(model); }
};
struct ContextDeleter {
    void operator()(llama_context * context) const { llama_free(context); }
};
struct SamplerDeleter {
    void operator()(llama_sampler * sampler) const { llama_sampler_free(sampler); }
};
struct MtmdDeleter {
    void operator()(mtmd_context * context) const { mtmd_free(context); }
};
struct BitmapDeleter {
    void operator()(mtmd_bitmap * bitmap) const { mtmd_bitmap_free(bitmap); }
};
struct ChunksDeleter {
    void operator()(mtmd_input_chunks * chunks) const { mtmd_input_chunks_free(chunks); }
};
struct GgufDeleter {
    void operator()(gguf_context * gguf) const { gguf_free(gguf); }
};

using ModelPtr = std::unique_ptr<llama_model, ModelDeleter>;
using ContextPtr = std::unique_ptr<llama_context, ContextDeleter>;
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerDeleter>;
using MtmdPtr = std::unique_ptr<mtmd_context, MtmdDeleter>;
using BitmapPtr = std::unique_ptr<mtmd_bitmap, BitmapDeleter>;
using ChunksPtr = std::unique_ptr<mtmd_input_chunks, ChunksDeleter>;
using GgufPtr = std::unique_ptr<gguf_context, GgufDeleter>;

}  // namespace dermlens::model
