#include "eval/eval_dataset.h"

#include "dermlens/error.h"
#include "dataset/manifest.h"
#include "dataset/split.h"

#include <fmt/format.h>

#include <algorithm>

namespace dermlens::eval {
namespace {

// The class of a manifest label: the label set's label of that name, else the label whose
// condition the name resolves to (a dataset may spell "Melanoma" or "MEL").
std::size_t class_of(const kb::KnowledgeBase & kb, const kb::LabelSet & set, const std::string & label,
                     const std::string & where) {
    for (std::size_t i = 0; i < set.labels.size(); ++i) {
        if (set.labels[i].label == label) {
            return i;
        }
    }
    try {
        const std::string condition = kb.resolve(label, set.name);
        for (std::size_t i = 0; i < set.labels.size(); ++i) {
            if (set.labels[i].condition == condition) {
                return i;
            }
        }
    } catch (const Error &) {
        // Not a name the knowledge base knows: reported below with the label set's labels.
    }
    std::string known;
    for (const auto & entry : set.labels) {
        known += (known.empty() ? "" : ", ") + entry.label;
    }
    throw Error(ErrorKind::InvalidInput,
                fmt::format("{}: label '{}' is not in label set '{}' ({})", where, label, set.name, known));
}

bool is_split_name(const std::string & split) {
    return split == "train" || split == "val" || split == "calib" || split == "test";
}

}  // namespace

std::vector<std::size_t> EvalDataset::rows_of_split(const std::string & split) const {
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < images.size(); ++i) {
        if (images[i].split == split) {
            rows.push_back(i);
        }
    }
    return rows;
}

EvalDataset load_eval_dataset(const std::filesystem::path & manifest_path, const kb::KnowledgeBase & kb,
                              const std::string & label_set, std::uint64_t split_seed) {
    const dataset::Manifest manifest = dataset::read_manifest(manifest_path);
    const kb::LabelSet & set = kb.label_set(label_set);
    if (manifest.rows.empty()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("manifest '{}' has no images", manifest_path.string()));
    }

    std::vector<std::size_t> set_index;  // per row
    std::vector<bool> present(set.labels.size(), false);
    for (const dataset::ManifestRow & row : manifest.rows) {
        set_index.push_back(class_of(kb, set, row.label, manifest.where(row)));
        present[set_index.back()] = true;
    }
    EvalDataset out{manifest_path, set.name, {}, {}, false};
    std::vector<std::size_t> class_of_set_index(set.labels.size(), 0);
    for (std::size_t i = 0; i < set.labels.size(); ++i) {
        if (present[i]) {
            class_of_set_index[i] = out.classes.size();
            out.classes.push_back(set.labels[i].label);
        }
    }

    const bool has_split = std::any_of(manifest.rows.begin(), manifest.rows.end(),
                                       [](const dataset::ManifestRow & row) { return !row.split.empty(); });
    std::vector<std::string> splits;
    if (has_split) {
        for (const dataset::ManifestRow & row : manifest.rows) {
            if (!is_split_name(row.split)) {
                throw Error(ErrorKind::InvalidArgument,
                            fmt::format("{}: split '{}' is not train, val, calib or test", manifest.where(row), row.split));
            }
            splits.push_back(row.split);
        }
    } else {
        std::vector<std::string> labels, patients;
        for (const dataset::ManifestRow & row : manifest.rows) {
            labels.push_back(row.label);
            patients.push_back(row.patient_id);
        }
        splits = dataset::make_splits(labels, patients, split_seed, {0.6, 0.1, 0.1, 0.2});
        out.split_generated = true;
    }

    for (std::size_t r = 0; r < manifest.rows.size(); ++r) {
        const dataset::ManifestRow & row = manifest.rows[r];
        EvalImage image{row.image, row.image_field, row.label, class_of_set_index[set_index[r]],
                        set.labels[set_index[r]].condition, splits[r], row.patient_id, {}};
        for (std::size_t c = 0; c < manifest.metadata_columns.size(); ++c) {
            image.metadata[manifest.metadata_columns[c]] = row.metadata[c];
        }
        out.images.push_back(std::move(image));
    }
    return out;
}

}  // namespace dermlens::eval
