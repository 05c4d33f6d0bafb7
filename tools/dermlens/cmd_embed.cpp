// dermlens embed --manifest FILE.csv|DIR --model M --mmproj P [--cache DB] [--export F.csv|F.npy] [--kind K]
//
// Fills the embedding cache with every image of a manifest: each image not yet cached for
// this encoder is decoded and encoded once, and its pooled features and projected
// embeddings are stored in one transaction, so an interrupted run resumes where it
// stopped. Images that cannot be used are reported and the others still run. When every
// image is cached already, no model is loaded at all (docs/embeddings.md).
#include "cli_errors.h"
#include "commands.h"
#include "diagnose_flow.h"
#include "progress.h"

#include "dermlens/error.h"
#include "dataset/manifest.h"
#include "vision/embedding_cache.h"
#include "vision/encoder_identity.h"
#include "vision/feature_table.h"
#include "vision/manifest_features.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace dermlens::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct EmbedOptions {
    std::string manifest;
    std::string model;
    std::string mmproj;
    std::string cache;        // empty: vision::default_cache_path()
    std::string export_path;  // empty: no export
    std::string kind = "encoder-mean";
    RuntimeOptions runtime;

    // Throws Error(InvalidArgument) for a bad --kind or --export name.
    void validate() const {
        vision::parse_feature_kind(kind);
        if (!export_path.empty()) {
            const std::string extension = fs::path(export_path).extension().string();
            if (extension != ".csv" && extension != ".npy") {
                throw Error(ErrorKind::InvalidArgument,
                            fmt::format("--export '{}': the file name must end in .csv or .npy", export_path));
            }
        }
    }

    fs::path cache_path() const { return cache.empty() ? vision::default_cache_path() : fs::path(cache); }
};

struct Failure {
    std::size_t row;
    std::string reason;
};

struct Outcome {
    std::size_t encoded = 0;
    std::size_t cached = 0;
    std::vector<Failure> failures;
    double encode_ms = 0;  // vision encoder + projector, summed over the encoded images
    double encoded_s = 0;  // wall time of the encoded images (hash, decode, encode, store)
    double seconds = 0;    // the whole run
};

class Embedder {
public:
    Embedder(const EmbedOptions & options, const dataset::Manifest & manifest, vision::EmbeddingCache & cache,
             const vision::EncoderIdentity & identity)
        : options_(options), manifest_(manifest), cache_(cache), identity_(identity),
          params_(engine_params(options.model, options.mmproj, options.runtime, {}, {}, cache.path().string(), false)),
          limits_(options.runtime.limits()) {}

    Outcome run() {
        const auto start = Clock::now();
        ProgressLine progress("embed", manifest_.size());
        for (std::size_t i = 0; i < manifest_.size(); ++i) {
            embed_row(i, progress);
            progress.update(i + 1, counts(), rate(), manifest_.size() - i - 1);
        }
        outcome_.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        return outcome_;
    }

private:
    void embed_row(std::size_t i, ProgressLine & progress) {
        const dataset::ManifestRow & row = manifest_.rows[i];
        const auto start = Clock::now();
        try {
            const Image image = Image::from_file(row.image, limits_);  // hashed once: the cache's key
            if (cache_.contains(image.sha256(), identity_)) {
                ++outcome_.cached;
                return;
            }
            image.rgb();  // an image that cannot be used fails before any model loads
            const EncodedImage encoded = engine().encode(image);  // stored in the cache
            ++outcome_.encoded;
            outcome_.encode_ms += encoded.encode_ms();
            outcome_.encoded_s += std::chrono::duration<double>(Clock::now() - start).count();
        } catch (const Error & e) {
            if (stops_batch(e)) {
                throw;  // the model or the options, not this image: every other image would fail alike
            }
            outcome_.failures.push_back({i, cli_message(e)});
            progress.message(fmt::format("dermlens: error: {}: {}", manifest_.where(row), cli_message(e)));
        }
    }

    // Loaded on the first image that needs the encoder: a fully cached manifest loads nothing.
    Engine & engine() {
        if (!engine_) {
            engine_ = std::make_unique<Engine>(params_);
        }
        return *engine_;
    }

    std::string counts() const {
        return fmt::format("encoded {}  cached {}  failed {}", outcome_.encoded, outcome_.cached, outcome_.failures.size());
    }

    // Images encoded per second: the cached ones cost next to nothing, so the ETA counts these.
    double rate() const { return outcome_.encoded_s > 0 ? static_cast<double>(outcome_.encoded) / outcome_.encoded_s : 0.0; }

    const EmbedOptions & options_;
    const dataset::Manifest & manifest_;
    vision::EmbeddingCache & cache_;
    const vision::EncoderIdentity & identity_;
    EngineParams params_;
    DecodeLimits limits_;
    std::unique_ptr<Engine> engine_;
    Outcome outcome_;
};

// The manifest without the rows that failed: what can be exported.
dataset::Manifest without_failures(const dataset::Manifest & manifest, const std::vector<Failure> & failures) {
    std::set<std::size_t> failed;
    for (const auto & failure : failures) {
        failed.insert(failure.row);
    }
    dataset::Manifest kept = manifest;
    kept.rows.clear();
    for (std::size_t i = 0; i < manifest.size(); ++i) {
        if (!failed.count(i)) {
            kept.rows.push_back(manifest.rows[i]);
        }
    }
    return kept;
}

void print_text(const dataset::Manifest & manifest, const vision::EmbeddingCache & cache,
                const vision::EncoderIdentity & identity, const Outcome & outcome) {
    std::printf("embed: %zu images: %zu encoded, %zu cached, %zu failed (%.1f s)\n", manifest.size(), outcome.encoded,
                outcome.cached, outcome.failures.size(), outcome.seconds);
    if (outcome.encoded > 0) {
        std::printf("encoder: %.1f ms per image (%.1f s in all)\n", outcome.encode_ms / static_cast<double>(outcome.encoded),
                    outcome.encode_ms / 1000.0);
    }
    std::printf("cache: %s (%zu images for this encoder)\n", cache.path().c_str(), cache.count(identity));
    for (const auto & failure : outcome.failures) {
        std::printf("failed: %s: %s\n", manifest.rows[failure.row].image_field.c_str(), failure.reason.c_str());
    }
}

nlohmann::ordered_json summary_json(const dataset::Manifest & manifest, const vision::EmbeddingCache & cache,
                                    const vision::EncoderIdentity & identity, const Outcome & outcome) {
    nlohmann::ordered_json failures = nlohmann::ordered_json::array();
    for (const auto & failure : outcome.failures) {
        failures.push_back({{"image", manifest.rows[failure.row].image_field}, {"error", failure.reason}});
    }
    return {{"manifest", manifest.source.string()},
            {"cache", cache.path().string()},
            {"mmproj_sha256", identity.mmproj_sha256},
            {"preprocessing", identity.preprocessing},
            {"images", manifest.size()},
            {"encoded", outcome.encoded},
            {"cached", outcome.cached},
            {"failed", failures},
            {"timings", {{"total_s", outcome.seconds}, {"encode_ms", outcome.encode_ms}}}};
}

int run_embed(const EmbedOptions & options) {
    options.validate();
    const vision::FeatureKind kind = vision::parse_feature_kind(options.kind);
    const dataset::Manifest manifest = dataset::read_manifest(options.manifest);
    const vision::EncoderIdentity identity = vision::encoder_identity(options.mmproj, kind);
    vision::EmbeddingCache cache(options.cache_path());

    const Outcome outcome = Embedder(options, manifest, cache, identity).run();
    if (options.runtime.json) {
        std::printf("%s\n", summary_json(manifest, cache, identity, outcome).dump(2).c_str());
    } else {
        print_text(manifest, cache, identity, outcome);
    }

    if (!options.export_path.empty()) {
        const vision::FeatureTable table = vision::features_for_manifest(
            outcome.failures.empty() ? manifest : without_failures(manifest, outcome.failures), cache, identity);
        vision::write_feature_table(table, options.export_path);
        std::fprintf(stderr, "exported %zu images x %zu %s features to %s%s\n", table.size(), table.dimension(),
                     vision::feature_kind_name(kind), options.export_path.c_str(),
                     outcome.failures.empty() ? "" : " (failed images left out)");
    }
    return outcome.failures.empty() ? 0 : 1;
}

}  // namespace

void register_embed(CLI::App & root, std::vector<Command> & commands) {
    auto options = std::make_shared<EmbedOptions>();
    auto * app = root.add_subcommand(
        "embed", "Encode every image of a dataset once and keep the vision features and image embeddings in the "
                 "embedding cache (resumes; skips cached images)");
    app->add_option("--manifest", options->manifest,
                    "CSV with image,label[,split,patient_id,...] columns, or a folder with one subfolder of images per "
                    "label")
        ->required();
    app->add_option("--model,-m", options->model, "GGUF text model (its tokenizer lays out the image tokens)")
        ->required()
        ->envname("DERMLENS_MODEL");
    app->add_option("--mmproj", options->mmproj, "GGUF vision projector belonging to the model")
        ->required()
        ->envname("DERMLENS_MMPROJ");
    app->add_option("--cache", options->cache, "Embedding cache file (default: ~/.cache/dermlens/embeddings.sqlite)")
        ->envname("DERMLENS_EMBEDDING_CACHE");
    app->add_option("--export", options->export_path,
                    "Also write the manifest's features to this file (.csv, or .npy with a .npy.csv sidecar)");
    app->add_option("--kind", options->kind, "Feature exported: encoder-mean (paper 000 C.2) or projected-mean")
        ->capture_default_str();
    add_runtime_options(*app, options->runtime);
    commands.push_back({app, [options] { return run_embed(*options); }});
}

}  // namespace dermlens::cli
