// The feature source of the probe commands: a feature file, or a manifest read from the
// embedding cache (docs/probes.md, docs/embeddings.md).
#include "probe_options.h"

#include "dermlens/error.h"
#include "dataset/manifest.h"
#include "vision/embedding_cache.h"
#include "vision/encoder_identity.h"
#include "vision/manifest_features.h"

#include <fmt/format.h>

namespace dermlens::cli {

void FeatureSource::validate() const {
    if (features.empty() == manifest.empty()) {
        throw Error(ErrorKind::InvalidArgument, "give either --features FILE or --manifest FILE --mmproj FILE");
    }
    if (!manifest.empty() && mmproj.empty()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("--manifest '{}' needs --mmproj: the projector whose cached features to read", manifest));
    }
    vision::parse_feature_kind(kind);
}

const std::string & FeatureSource::name() const { return features.empty() ? manifest : features; }

const char * FeatureSource::report_key() const { return features.empty() ? "manifest" : "features"; }

vision::FeatureTable FeatureSource::load() const {
    validate();
    if (!features.empty()) {
        return vision::read_feature_table(features);
    }
    const dataset::Manifest rows = dataset::read_manifest(manifest);
    const vision::EncoderIdentity encoder = vision::encoder_identity(mmproj, vision::parse_feature_kind(kind));
    const vision::EmbeddingCache embeddings(cache.empty() ? vision::default_cache_path() : std::filesystem::path(cache),
                                            vision::CacheAccess::MustExist);
    return vision::features_for_manifest(rows, embeddings, encoder);
}

void add_feature_source_options(CLI::App & app, FeatureSource & source, const std::string & features_help) {
    app.add_option("--features", source.features, features_help);
    app.add_option("--manifest", source.manifest,
                   "Instead of --features: a dataset manifest (CSV or folder per class) whose images `dermlens embed` "
                   "has cached");
    app.add_option("--mmproj", source.mmproj, "With --manifest: the projector whose cached features to read")
        ->envname("DERMLENS_MMPROJ");
    app.add_option("--cache", source.cache,
                   "With --manifest: the embedding cache (default: ~/.cache/dermlens/embeddings.sqlite)")
        ->envname("DERMLENS_EMBEDDING_CACHE");
    app.add_option("--kind", source.kind, "With --manifest: encoder-mean (paper 000 C.2) or projected-mean")
        ->capture_default_str();
}

}  // namespace dermlens::cli
