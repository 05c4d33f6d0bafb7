// Which rows a probe learns from: k-shot sampling from the training rows, and stratified
// folds for cross-validation (paper 000 C.2, paper 001's 5-fold choice of C).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dermlens::probe {

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
