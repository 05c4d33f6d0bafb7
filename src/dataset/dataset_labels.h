// Dataset labels -> the labels of a knowledge-base label set (docs/datasets.md): a label is
// resolved to a condition through the dataset's own label set first (then the knowledge
// base's names), and the target set's label for that condition is taken; with roll-up, a
// condition the target set lacks goes to its nearest ancestor that the set has.
#pragma once

#include "dermlens/kb/knowledge_base.h"

#include <map>
#include <optional>
#include <string>

namespace dermlens::dataset {

struct LabelMapping {
    std::optional<std::string> label;  // the target set's label; std::nullopt when there is none
    std::string reason;                // why there is none
};

class LabelMapper {
public:
    // `native_set` may be empty (resolve through `target_set`'s labels, then the names);
    // throws Error(InvalidArgument) for a label set the knowledge base does not have.
    LabelMapper(const kb::KnowledgeBase & kb, std::string native_set, std::string target_set, bool roll_up);

    const LabelMapping & map(const std::string & dataset_label);

private:
    LabelMapping compute(const std::string & dataset_label) const;
    std::optional<std::string> label_of(const std::string & condition) const;

    const kb::KnowledgeBase & kb_;
    std::string native_set_;
    std::string target_set_;
    bool roll_up_;
    std::map<std::string, std::string> label_of_condition_;  // the target set's first label per condition
    std::map<std::string, std::string> label_of_key_;        // the target set's labels by normalised name
    std::map<std::string, LabelMapping> cache_;
};

}  // namespace dermlens::dataset
