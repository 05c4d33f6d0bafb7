// Which rows a probe learns from: a seeded stratified train/val/calib/test split for
// tables that bring none (one patient's images never span two splits), k-shot
// sampling from the training rows, and stratified folds for cross-validation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::probe {

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

// k rows per class drawn without replacement from `rows` (class of row r: classes[r]),
// seeded; all of a class's rows when it has k or fewer, all rows when k == 0. The result
// lists class 0's rows first, then class 1's, ..., each class's in drawn order.
std::vector<std::size_t> sample_shots(const std::vector<int> & classes, const std::vector<std::size_t> & rows,
                                      std::size_t n_classes, std::size_t shots, std::uint64_t seed);

// The test fold (0 .. folds-1) of each sample, as scikit-learn's StratifiedKFold(folds,
// shuffle=False) assigns it: classes taken in order of first appearance, each class's
// samples in order dealt to folds in blocks so that fold sizes per class differ by <= 1.
std::vector<int> stratified_folds(const std::vector<int> & classes, std::size_t folds);

}  // namespace dermlens::probe
