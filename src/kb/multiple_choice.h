// Options of multiple-choice diagnosis questions (paper 002, section 4.3 and
// appendix A): the true condition plus distractors drawn by one of three strategies.
#pragma once

#include "dermlens/kb/knowledge_base.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::kb {

enum class DistractorStrategy {
    Random,        // any condition of the label set, or any leaf of the taxonomy without one
    Hierarchical,  // ancestors of the truth, the root excluded: the answer is the finer option
    Ddx,           // DDx neighbours of the truth: clinically confusable conditions
};

// `count` options (condition ids): `truth` exactly once plus distinct distractors,
// in an order shuffled by `seed` — the same on every platform for the same
// knowledge base. Fewer when the strategy has fewer distractors to offer.
// Random and DDx distractors are never on the truth's path to the root nor below
// it, so the truth is the one correct option; `label_set` is the pool of the
// random strategy (the dataset's own classes) and is not used by the others.
// Throws Error(InvalidArgument) for count < 2 or an unknown truth or label set.
std::vector<std::string> sample_options(const KnowledgeBase & kb, std::string_view truth, DistractorStrategy strategy,
                                        std::size_t count, std::uint64_t seed,
                                        std::optional<std::string_view> label_set = std::nullopt);

// Paper 002's RL and in-distribution questions (appendix A; the authors' sampler): `count`
// options (condition ids) of which 1..min(max_on_path, path length) are distinct nodes of the
// truth's path below the root, drawn at random (the truth itself may be absent: the answer is
// then the finest path node offered, correct_option), the rest distractors from the conditions
// of `label_set` off the truth's lineage, topped up from the taxonomy's leaves when the label
// set has too few; shuffled, all by `seed`. Throws Error(InvalidArgument) for count < 2,
// max_on_path < 1, the root as truth, or an unknown truth or label set.
std::vector<std::string> sample_path_options(const KnowledgeBase & kb, std::string_view truth, std::size_t count,
                                             std::size_t max_on_path, std::uint64_t seed,
                                             std::optional<std::string_view> label_set = std::nullopt);

// Paper 002's rule: the index of the most fine-grained option on the truth's path to
// the root (the truth itself, else its nearest ancestor among the options);
// std::nullopt when no option is on that path.
std::optional<std::size_t> correct_option(const KnowledgeBase & kb, const std::vector<std::string> & options,
                                          std::string_view truth);

}  // namespace dermlens::kb
