// The FeatureTable of a dataset manifest, read from the embedding cache: what the probe
// commands train and evaluate on. The encoder never runs here; images that `dermlens embed`
// has not encoded yet are an error that lists them.
#pragma once

#include "dataset/manifest.h"
#include "vision/embedding_cache.h"
#include "vision/feature_table.h"

namespace dermlens::vision {

// One row per manifest row, in manifest order: image (as written in the manifest), label,
// split, patient_id and the pooled feature of `encoder.kind`. Throws Error(InvalidInput)
// listing the images that are not in the cache for this encoder (or cannot be read to be
// hashed) and saying to run `dermlens embed` first.
FeatureTable features_for_manifest(const dataset::Manifest & manifest, const EmbeddingCache & cache,
                                   const EncoderIdentity & encoder);

}  // namespace dermlens::vision
