#include "probe/split.h"

#include "dermlens/error.h"
#include "common/random.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

namespace dermlens::probe {

void SplitProportions::validate() const {
    const std::array<double, 4> parts = {train, val, calib, test};
    double sum = 0.0;
    for (const double part : parts) {
        if (!(part >= 0.0 && part <= 1.0)) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("split proportions {}/{}/{}/{}: each must be in [0, 1]", train, val, calib, test));
        }
        sum += part;
    }
    if (std::abs(sum - 1.0) > 1e-9 || train <= 0.0) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("split proportions {}/{}/{}/{}: they must sum to 1 with train > 0", train, val, calib,
                                test));
    }
}

std::vector<std::string> make_splits(const std::vector<std::string> & labels,
                                     const std::vector<std::string> & patient_ids, std::uint64_t seed,
                                     const SplitProportions & proportions) {
    proportions.validate();
    if (patient_ids.size() != labels.size()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("split: {} patient ids for {} labels", patient_ids.size(), labels.size()));
    }
    // Groups in order of first row: a patient's rows, or a row of its own.
    std::vector<std::vector<std::size_t>> groups;
    std::map<std::string, std::size_t> group_of_patient;
    for (std::size_t row = 0; row < labels.size(); ++row) {
        if (patient_ids[row].empty()) {
            groups.push_back({row});
            continue;
        }
        const auto [it, added] = group_of_patient.emplace(patient_ids[row], groups.size());
        if (added) {
            groups.emplace_back();
        }
        groups[it->second].push_back(row);
    }
    // Each group's class: its most frequent label, ties to the smallest.
    std::map<std::string, std::vector<std::size_t>> groups_of_label;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        std::map<std::string, std::size_t> counts;
        for (const std::size_t row : groups[g]) {
            ++counts[labels[row]];
        }
        const auto best = std::max_element(counts.begin(), counts.end(),
                                           [](const auto & a, const auto & b) { return a.second < b.second; });
        groups_of_label[best->first].push_back(g);
    }
    static constexpr std::array<const char *, 4> kNames = {"train", "val", "calib", "test"};
    const std::array<double, 4> shares = {proportions.train, proportions.val, proportions.calib, proportions.test};
    std::vector<std::string> splits(labels.size());
    std::mt19937_64 rng(seed);
    for (auto & [label, members] : groups_of_label) {
        shuffle(members, rng);
        std::size_t class_rows = 0;
        for (const std::size_t g : members) {
            class_rows += groups[g].size();
        }
        std::size_t assigned = 0;
        for (const std::size_t g : members) {
            std::size_t split = 0;
            double cumulative = shares[0] * static_cast<double>(class_rows);
            while (split + 1 < shares.size() && static_cast<double>(assigned) >= cumulative - 1e-9) {
                ++split;
                cumulative += shares[split] * static_cast<double>(class_rows);
            }
            for (const std::size_t row : groups[g]) {
                splits[row] = kNames[split];
            }
            assigned += groups[g].size();
        }
    }
    return splits;
}

std::vector<std::size_t> rows_of_split(const std::vector<std::string> & splits, std::string_view name) {
    std::vector<std::size_t> rows;
    for (std::size_t row = 0; row < splits.size(); ++row) {
        if (splits[row] == name) {
            rows.push_back(row);
        }
    }
    return rows;
}

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
