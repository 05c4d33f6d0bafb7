#include "engine/attention_paths.h"

#include "common/data_dir.h"

#include <algorithm>

namespace dermlens {
namespace {

// The prefill ubatch llama.cpp evaluates at once (n_ubatch defaults to 512).
constexpr int kTextTokensAtMost = 512;

AttentionPath decided(const AttentionProbe & probe) {
    if (model::has_gpu_device()) {
        return {FlashAttention::Auto, "auto: llama.cpp's, on the GPU device"};
    }
    const model::AttentionDecision decision = model::choose_attention(probe.key, attention_store(), probe.timer());
    return {decision.flash ? FlashAttention::On : FlashAttention::Off, "auto, " + decision.summary()};
}

AttentionPath as_set(FlashAttention mode) {
    return {mode, std::string("set: ") + flash_attention_name(mode)};
}

}  // namespace

model::AttentionTimer AttentionProbe::timer() const {
    return [shape = shape, threads = threads](bool flash) { return model::time_attention_ms(shape, flash, threads); };
}

AttentionProbe vision_attention_probe(const std::filesystem::path & mmproj, const std::string & mmproj_sha256,
                                      int threads) {
    AttentionProbe probe;
    probe.shape = model::vision_attention_shape(mmproj);
    probe.threads = threads;
    probe.key = {"vision", model::cpu_description(), threads, mmproj_sha256, probe.shape.describe()};
    return probe;
}

AttentionProbe text_attention_probe(const std::filesystem::path & model, const std::string & model_sha256,
                                    const EngineParams & params, int threads) {
    AttentionProbe probe;
    const int tokens = std::min({params.batch_size, params.context_size, kTextTokensAtMost});
    probe.shape = model::text_attention_shape(model, tokens);
    probe.threads = threads;
    probe.key = {"text", model::cpu_description(), threads, model_sha256, probe.shape.describe()};
    return probe;
}

model::AttentionStore attention_store() {
    return model::AttentionStore(cache_dir() / "attention-paths.json");
}

AttentionPaths resolve_attention_paths(const EngineParams & params, int threads, const std::string & model_sha256,
                                       const std::string & mmproj_sha256) {
    AttentionPaths paths;
    if (params.capture_attention) {
        paths.text = {FlashAttention::Off, "off: attention capture needs the attention probabilities"};
    } else if (params.flash_attention == FlashAttention::Auto) {
        paths.text = decided(text_attention_probe(params.model, model_sha256, params, threads));
    } else {
        paths.text = as_set(params.flash_attention);
    }
    if (params.mmproj.empty()) {
        paths.vision = {FlashAttention::Off, "off: a text-only Engine has no vision encoder"};
        return paths;
    }
    paths.vision = params.vision_flash_attention == FlashAttention::Auto
                       ? decided(vision_attention_probe(params.mmproj, mmproj_sha256, threads))
                       : as_set(params.vision_flash_attention);
    return paths;
}

}  // namespace dermlens
