#include "dataset/split.h"

#include "dermlens/error.h"
#include "common/random.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

namespace dermlens::dataset {

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

}  // namespace dermlens::dataset
