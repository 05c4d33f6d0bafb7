#include "vision/encoder_identity.h"

#include "common/file_hash_cache.h"
#include "model/encoder_tap.h"
#include "model/gguf_check.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace dermlens::vision {

std::string encoder_preprocessing(const std::filesystem::path & mmproj) {
    const model::ProjectorInfo projector = model::check_projector(mmproj);
    const model::EncoderTap tap = model::encoder_tap(projector, mmproj);
    std::string text = fmt::format("{};{}px", projector.projector_type, projector.image_size);
    if (projector.min_pixels > 0 || projector.max_pixels > 0) {
        text += fmt::format(";pixels={}..{}", projector.min_pixels, projector.max_pixels);
    }
    text += fmt::format(";mean={:g};std={:g};layer={}", fmt::join(projector.image_mean, ","),
                        fmt::join(projector.image_std, ","), tap.layer);
    return text;
}

EncoderIdentity encoder_identity(const std::filesystem::path & mmproj, FeatureKind kind) {
    EncoderIdentity identity;
    identity.preprocessing = encoder_preprocessing(mmproj);  // validates the file before hashing it
    identity.mmproj_sha256 = sha256_model_file(mmproj);
    identity.kind = kind;
    return identity;
}

}  // namespace dermlens::vision
