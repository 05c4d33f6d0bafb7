#include "probe/sampling.h"

#include "dermlens/error.h"

#include <fmt/format.h>
#include "common/random.h"

#include <algorithm>
#include <map>

namespace dermlens::probe {

std::vector<std::size_t> sample_shots(const std::vector<int> & classes, const std::vector<std::size_t> & rows,
                                      std::size_t n_classes, std::size_t shots, std::uint64_t seed) {
    std::vector<std::vector<std::size_t>> by_class(n_classes);
    for (const std::size_t row : rows) {
        const int c = classes.at(row);
        if (c < 0 || static_cast<std::size_t>(c) >= n_classes) {
            throw Error(ErrorKind::InvalidInput, fmt::format("k-shot sampling: row {} has class {} of {}", row, c,
                                                             n_classes));
        }
        by_class[static_cast<std::size_t>(c)].push_back(row);
    }
    std::mt19937_64 rng(seed);
    std::vector<std::size_t> sample;
    for (auto & members : by_class) {
        const std::size_t take = shots == 0 ? members.size() : std::min(shots, members.size());
        // A partial Fisher-Yates: the first `take` places become a uniform draw without replacement.
        for (std::size_t i = 0; i < take; ++i) {
            std::swap(members[i], members[i + uniform_index(rng, members.size() - i)]);
        }
        sample.insert(sample.end(), members.begin(), members.begin() + static_cast<std::ptrdiff_t>(take));
    }
    return sample;
}

std::vector<int> stratified_folds(const std::vector<int> & classes, std::size_t folds) {
    if (folds < 2) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("cross-validation needs at least 2 folds, not {}", folds));
    }
    // Classes renumbered by first appearance, as StratifiedKFold encodes them.
    std::map<int, std::size_t> order;
    std::vector<std::size_t> encoded(classes.size());
    for (std::size_t i = 0; i < classes.size(); ++i) {
        encoded[i] = order.emplace(classes[i], order.size()).first->second;
    }
    const std::size_t n_classes = order.size();
    std::vector<std::size_t> sorted = encoded;
    std::sort(sorted.begin(), sorted.end());
    // allocation[f][k]: how many of class k fold f tests — the count of k among sorted[f], sorted[f + folds], ...
    std::vector<std::vector<std::size_t>> allocation(folds, std::vector<std::size_t>(n_classes, 0));
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        ++allocation[i % folds][sorted[i]];
    }
    std::vector<int> fold_of(classes.size());
    for (std::size_t k = 0; k < n_classes; ++k) {
        std::size_t fold = 0;
        std::size_t left = allocation[0][k];
        for (std::size_t i = 0; i < classes.size(); ++i) {
            if (encoded[i] != k) {
                continue;
            }
            while (left == 0) {
                ++fold;
                left = allocation[fold][k];
            }
            fold_of[i] = static_cast<int>(fold);
            --left;
        }
    }
    return fold_of;
}

}  // namespace dermlens::probe
