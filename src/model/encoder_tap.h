// Where the vision encoder's last hidden state can be read in libmtmd's vision graph.
//
// libmtmd runs encoder and projector as one graph; its tensors are named as the
// graph is built (tools/mtmd/clip.cpp: clip_graph::cb, build_norm, build_vit).
// The encoder's output before the projector is, per projector type:
//   gemma3 (SigLIP)          the post-layernorm output: "norm_b" ("norm_w" without a bias),
//                            the block-less name build_norm gives it; HF's last_hidden_state
//   qwen2vl / qwen2.5vl      the last block's output "layer_out-<L-1>" (the GGUF's v.post_ln
//                            is the merger's ln_q, i.e. part of the projector)
//   mlp (LLaVA-1.5)          the penultimate block's output "layer_out-<L-2>" (libmtmd runs
//                            L-1 blocks: LLaVA reads hidden_states[-2]), or the post-layernorm
//                            output when the file has one
// Vlm observes that tensor through mtmd_context_params.cb_eval during the encode.
#pragma once

#include "model/gguf_check.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace dermlens::model {

struct EncoderTap {
    std::string tensor_name;  // node name in the vision graph
    std::string layer;        // stable description for encoder identities: "post-ln" or "block-<i>"
    std::int64_t width = 0;   // hidden size of the encoder (clip.vision.embedding_length)
};

// Throws Error(InvalidModel) naming `mmproj_path` for a layout whose encoder output has no
// single tensor (stacked feature layers) or whose size keys are missing.
EncoderTap encoder_tap(const ProjectorInfo & projector, const std::filesystem::path & mmproj_path);

}  // namespace dermlens::model
