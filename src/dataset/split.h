// How a dataset's rows are split when its files bring no split: a seeded stratified
// train/val/calib/test split in which one patient's (or lesion's) images never span two
// splits (docs/probes.md, docs/datasets.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::dataset {

// Fractions of each class's rows per split (docs/probes.md): they must be >= 0 and sum to 1.
struct SplitProportions {
    double train = 0.60;
    double val = 0.10;
    double calib = 0.15;
    double test = 0.15;

    void validate() const;  // throws Error(InvalidArgument)
    bool operator==(const SplitProportions &) const = default;
};

// A split name per row ("train", "val", "calib", "test"). Rows with the same non-empty
// patient id form one group that goes to one split as a whole; each group counts for
// the most frequent label among its rows (ties: the smallest). Per class, the groups
// are shuffled with `seed` and walked in that order, each going to the first split
// whose cumulative share of the class's rows is not yet reached.
std::vector<std::string> make_splits(const std::vector<std::string> & labels,
                                     const std::vector<std::string> & patient_ids, std::uint64_t seed,
                                     const SplitProportions & proportions = {});

// Indices of the rows whose split is `name`, in row order.
std::vector<std::size_t> rows_of_split(const std::vector<std::string> & splits, std::string_view name);

}  // namespace dermlens::dataset
