#include "dataset/dataset_labels.h"

#include "dermlens/error.h"
#include "kb/names.h"

#include <fmt/format.h>

#include <utility>

namespace dermlens::dataset {

LabelMapper::LabelMapper(const kb::KnowledgeBase & kb, std::string native_set, std::string target_set, bool roll_up)
    : kb_(kb), native_set_(std::move(native_set)), target_set_(std::move(target_set)), roll_up_(roll_up) {
    if (!native_set_.empty()) {
        kb_.label_set(native_set_);  // refuses an unknown set
    }
    for (const kb::Label & label : kb_.label_set(target_set_).labels) {
        label_of_condition_.emplace(label.condition, label.label);
        label_of_key_.emplace(kb::normalize_name(label.label), label.label);
    }
}

const LabelMapping & LabelMapper::map(const std::string & dataset_label) {
    const auto cached = cache_.find(dataset_label);
    if (cached != cache_.end()) {
        return cached->second;
    }
    return cache_.emplace(dataset_label, compute(dataset_label)).first->second;
}

LabelMapping LabelMapper::compute(const std::string & dataset_label) const {
    // A dataset label that is itself a label of the target set stays as it is: two labels of a set
    // may share a condition (Fitzpatrick17k's "melanoma" and "malignant melanoma").
    if (native_set_.empty() || native_set_ == target_set_) {
        if (const auto own = label_of_key_.find(kb::normalize_name(dataset_label)); own != label_of_key_.end()) {
            return {own->second, ""};
        }
    }
    std::string condition;
    try {
        condition = kb_.resolve(dataset_label, native_set_.empty() ? target_set_ : native_set_);
    } catch (const Error & e) {
        if (e.kind() != ErrorKind::InvalidArgument) {
            throw;
        }
        return {std::nullopt, e.what()};
    }
    if (auto label = label_of(condition)) {
        return {std::move(label), ""};
    }
    if (roll_up_) {
        for (const std::string & ancestor : kb_.ancestors(condition)) {
            if (auto label = label_of(ancestor)) {
                return {std::move(label), ""};
            }
        }
        return {std::nullopt, fmt::format("neither its condition '{}' nor any ancestor of it has a label in label set '{}'",
                                          condition, target_set_)};
    }
    return {std::nullopt, fmt::format("its condition '{}' has no label in label set '{}'", condition, target_set_)};
}

std::optional<std::string> LabelMapper::label_of(const std::string & condition) const {
    const auto it = label_of_condition_.find(condition);
    return it == label_of_condition_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

}  // namespace dermlens::dataset
