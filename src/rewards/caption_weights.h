// SkinFlow's caption weights a_i (paper 003 section 3.3: "determined according to its frequency of
// use in the LLM's diagnostic reasoning process"), counted from top-K answers: how often each
// caption field is cited in "key_matching_fields", plus one (so that no field drops out), normalised.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace dermlens::rewards {

struct FieldCitations {
    std::map<std::string, double> weights;  // every schema field, summing to 1
    std::map<std::string, std::size_t> counts;
    std::size_t answers = 0;  // completions with a readable top-K list
};

// Throws Error(InvalidInput) when no completion cites any schema field.
FieldCitations caption_weights_from_topk(const std::vector<std::string> & completions);

}  // namespace dermlens::rewards
