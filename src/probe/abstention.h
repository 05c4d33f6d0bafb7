// Deciding or abstaining (issue 5, "Deciding"; docs/probes.md, "Abstention"): paper 000
// (fig. 4) found MedGemma abstains in only 12 % of images whose lesion is masked when it
// is offered a "not sure" option, so dermlens also abstains on its own when the answer
// is not probable enough.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::probe {

struct AbstentionParams {
    bool not_sure_option = false;  // the prompt offers a "not sure" option
    double threshold = 0.0;        // abstain when the top real option's probability is below it; 0 = never

    void validate() const;  // threshold in [0, 1]; throws Error(InvalidArgument)
};

struct Decision {
    std::optional<std::size_t> choice;  // index into the probabilities; empty exactly when abstained
    bool abstained = false;
    std::string reason;  // why it abstained; empty when it did not
};

// `probabilities` are over the options, the "not sure" option (when offered) at
// not_sure_index; they are renormalised to sum to 1. The winner is the most probable
// option (ties: the lower index). It abstains when
//  - the winner is the "not sure" option, or
//  - the top real option's probability, renormalised over the real options only, is
//    below params.threshold. Without the "not sure" mass, so that the threshold means the
//    same whether or not the option is offered, and applies to the distribution that
//    fusion produces (the probe has no "not sure" class) — that mass already has its own rule.
// Throws Error(InvalidArgument) when not_sure_index is given without params.not_sure_option
// or the other way round, or is out of range; Error(InvalidInput) on no real option, a
// negative or non-finite probability, or probabilities that are all 0.
Decision decide(const std::vector<double> & probabilities, std::optional<std::size_t> not_sure_index,
                const AbstentionParams & params);

}  // namespace dermlens::probe
