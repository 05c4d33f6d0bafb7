// The hand-off from the vision stage to the probes: one feature vector per image
// with its label and split, plus which encoder output the vectors came from.
// Probes are trained on a FeatureTable and refuse one from another encoder.
#pragma once

#include <Eigen/Core>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::vision {

// Which pooled vector an image's feature is (paper 000 C.2 uses EncoderMean).
enum class FeatureKind {
    EncoderMean,    // mean over tokens of the vision encoder's last hidden state, before the projector
    ProjectedMean,  // mean of the projected image embeddings the text model receives
};
const char * feature_kind_name(FeatureKind kind) noexcept;        // "encoder-mean" | "projected-mean"
FeatureKind parse_feature_kind(const std::string & text);         // throws Error(InvalidArgument)

// Identifies the function image -> feature: the same identity means the same vectors.
struct EncoderIdentity {
    std::string mmproj_sha256;   // the projector file's content hash
    FeatureKind kind = FeatureKind::EncoderMean;
    std::string preprocessing;   // e.g. "clip-896-siglip" (image size and normalisation the encoder applies)

    std::string key() const;     // one string that differs whenever any field differs
    bool operator==(const EncoderIdentity &) const = default;
};

// Feature rows where they lie, with any strides: a FeatureTable's own matrix, or an array a caller
// owns (a NumPy array), so that probes read the rows they need without copying the whole table.
using FeatureView = Eigen::Map<const Eigen::MatrixXf, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
FeatureView view_of(const Eigen::MatrixXf & features);

// Rows in memory the caller owns and keeps alive: where they start, their shape and their strides
// (in floats, both positive).
struct BorrowedRows {
    const float * data = nullptr;
    Eigen::Index rows = 0;
    Eigen::Index columns = 0;
    Eigen::Index row_stride = 0;     // from one row to the next
    Eigen::Index column_stride = 1;  // from one feature to the next

    FeatureView view() const;
};

struct FeatureTable {
    EncoderIdentity encoder;               // empty mmproj_sha256 when read from a file that does not say
    std::vector<std::string> images;       // path as in the manifest, or an id
    std::vector<std::string> labels;       // dataset label per row ("" when unknown, e.g. at prediction)
    std::vector<std::string> splits;       // "train", "val", "calib", "test" or "" (probe makes its own split)
    std::vector<std::string> patient_ids;  // "" when unknown; keeps one patient's images in one split
    Eigen::MatrixXf features;              // rows() == images.size(), one row per image (empty when borrowed)
    // Set: the features are these rows of memory the caller owns (read in place; `features` stays empty).
    std::optional<BorrowedRows> borrowed;

    std::size_t size() const { return images.size(); }
    FeatureView feature_rows() const { return borrowed ? borrowed->view() : view_of(features); }  // owned or borrowed
    std::size_t dimension() const { return static_cast<std::size_t>(feature_rows().cols()); }
    void validate() const;  // sizes agree, no non-finite values; throws Error(InvalidInput)
};

// Plain files so probes can use features computed elsewhere:
// CSV: header `image,label,split,patient_id,f0,f1,...` (label/split/patient_id columns optional);
// .npy: float32 or float64 2-D array (C order), with a sidecar `<file>.csv` holding image,label,split,patient_id.
// Format chosen by extension; errors name the file and the line / field.
// Details (docs/probes.md): a CSV (and the sidecar) may start with the encoder identity line
// `# dermlens.features/1 mmproj_sha256=HEX kind=encoder-mean preprocessing=TEXT`, which the
// writer always puts there; the sidecar of `f.npy` is `f.npy.csv`; fields may be quoted
// (RFC 4180, no line breaks inside); Fortran-order .npy arrays are read too; the writer
// stores float32, C order, numpy format 1.0. Split values: train, val, calib, test or empty.
FeatureTable read_feature_table(const std::filesystem::path & path);
void write_feature_table(const FeatureTable & table, const std::filesystem::path & path);

}  // namespace dermlens::vision
