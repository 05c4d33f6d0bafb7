// The images an evaluation runs on: a manifest's rows with each label mapped to a class of
// the knowledge base's label set, a split per row (the manifest's own, else a seeded split
// grouped by patient / lesion: 6:2:2 train / held-out / test, the held-out part halved into
// val, where the probe chooses its C when it cannot cross-validate, and calib, where it
// calibrates its conformal sets) and the metadata columns the fairness protocol groups by.
#pragma once

#include "dermlens/kb/knowledge_base.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace dermlens::eval {

struct EvalImage {
    std::filesystem::path path;
    std::string image;       // as the manifest writes it: the sample's name in every output
    std::string label;       // the manifest's label
    std::size_t cls = 0;     // index into EvalDataset::classes
    std::string condition;   // the class's knowledge-base condition id
    std::string split;       // train | val | calib | test
    std::string patient_id;  // "" when unknown
    std::map<std::string, std::string> metadata;  // the manifest's other columns, by name
};

struct EvalDataset {
    std::filesystem::path manifest;
    std::string label_set;
    std::vector<std::string> classes;  // the label set's labels present in the manifest, in label-set order
    std::vector<EvalImage> images;     // in manifest order
    bool split_generated = false;      // no split column: a seeded grouped split was made

    std::vector<std::size_t> rows_of_split(const std::string & split) const;
};

// Reads the manifest and maps each label through `label_set` (by its label names, else by
// any name of the condition it resolves to). Throws Error(InvalidInput) naming the manifest
// line of a label that is not in the label set, Error(InvalidArgument) for an unknown label
// set or a manifest whose split column has values other than train, val, calib, test.
EvalDataset load_eval_dataset(const std::filesystem::path & manifest, const kb::KnowledgeBase & kb,
                              const std::string & label_set, std::uint64_t split_seed);

}  // namespace dermlens::eval
