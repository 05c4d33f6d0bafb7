// The EncoderIdentity of an mmproj file, computed without loading any model: the file's
// SHA-256 and a preprocessing description read from its GGUF header (projector type,
// input size, normalisation, and which encoder layer the pooled feature is read from).
#pragma once

#include "vision/feature_table.h"

#include <filesystem>

namespace dermlens::vision {

// e.g. "gemma3;896px;mean=0.5,0.5,0.5;std=0.5,0.5,0.5;layer=post-ln" (no white space, so it
// fits feature files' identity line); throws Error(InvalidModel) naming the file when it is
// not a projector dermlens can read features from.
std::string encoder_preprocessing(const std::filesystem::path & mmproj);

EncoderIdentity encoder_identity(const std::filesystem::path & mmproj, FeatureKind kind);

}  // namespace dermlens::vision
