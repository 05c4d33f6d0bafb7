#include "vision/manifest_features.h"

#include "common/hash.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

namespace dermlens::vision {
namespace {

constexpr std::size_t kListedAtMost = 10;

std::string missing_list(const std::vector<std::string> & missing) {
    std::string text;
    for (std::size_t i = 0; i < missing.size() && i < kListedAtMost; ++i) {
        text += "\n  " + missing[i];
    }
    if (missing.size() > kListedAtMost) {
        text += fmt::format("\n  ... and {} more", missing.size() - kListedAtMost);
    }
    return text;
}

}  // namespace

FeatureTable features_for_manifest(const dataset::Manifest & manifest, const EmbeddingCache & cache,
                                   const EncoderIdentity & encoder) {
    std::vector<std::vector<float>> rows;
    rows.reserve(manifest.size());
    std::vector<std::string> missing;
    for (const auto & row : manifest.rows) {
        std::string image_sha256;
        try {
            image_sha256 = sha256_file(row.image);
        } catch (const Error & e) {
            if (e.kind() != ErrorKind::InvalidInput) {
                throw;
            }
            missing.push_back(fmt::format("{} ({})", row.image_field, e.what()));
            continue;
        }
        std::optional<std::vector<float>> feature = cache.feature(image_sha256, encoder);
        if (!feature) {
            missing.push_back(row.image_field);
            continue;
        }
        if (!rows.empty() && feature->size() != rows.front().size()) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("embedding cache '{}': image '{}' has a {}-wide {} feature, earlier ones {}",
                                    cache.path().string(), row.image_field, feature->size(),
                                    feature_kind_name(encoder.kind), rows.front().size()));
        }
        rows.push_back(std::move(*feature));
    }
    if (!missing.empty()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("{} of {} images of manifest '{}' are not in embedding cache '{}' for this encoder; "
                                "run `dermlens embed` first:{}",
                                missing.size(), manifest.size(), manifest.source.string(), cache.path().string(),
                                missing_list(missing)));
    }

    FeatureTable table;
    table.encoder = encoder;
    const auto n = static_cast<Eigen::Index>(rows.size());
    const auto dim = static_cast<Eigen::Index>(rows.empty() ? 0 : rows.front().size());
    table.features.resize(n, dim);
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto & row = manifest.rows[static_cast<std::size_t>(i)];
        table.images.push_back(row.image_field);
        table.labels.push_back(row.label);
        table.splits.push_back(row.split);
        table.patient_ids.push_back(row.patient_id);
        table.features.row(i) = Eigen::Map<const Eigen::RowVectorXf>(rows[static_cast<std::size_t>(i)].data(), dim);
    }
    table.validate();
    return table;
}

}  // namespace dermlens::vision
