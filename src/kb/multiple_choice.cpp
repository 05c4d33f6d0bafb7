#include "kb/multiple_choice.h"

#include "common/random.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <random>

namespace dermlens::kb {
namespace {

// Fisher-Yates on the first `count` places: they become a uniform sample, in random order.
void shuffle_prefix(std::vector<std::string> & items, std::size_t count, std::mt19937_64 & rng) {
    for (std::size_t i = 0; i < count && i + 1 < items.size(); ++i) {
        std::swap(items[i], items[i + uniform_index(rng, items.size() - i)]);
    }
}

bool on_truth_lineage(const KnowledgeBase & kb, const std::string & id, std::string_view truth) {
    return id == truth || kb.is_ancestor(id, truth) || kb.is_ancestor(truth, id);
}

// Candidates unrelated by descent to the truth, sorted and distinct.
std::vector<std::string> off_lineage(const KnowledgeBase & kb, std::vector<std::string> ids, std::string_view truth) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::erase_if(ids, [&](const std::string & id) { return on_truth_lineage(kb, id, truth); });
    return ids;
}

std::vector<std::string> label_set_conditions(const KnowledgeBase & kb, std::string_view label_set) {
    std::vector<std::string> ids;
    for (const auto & label : kb.label_set(label_set).labels) {
        ids.push_back(label.condition);
    }
    return ids;
}

std::vector<std::string> distractor_pool(const KnowledgeBase & kb, std::string_view truth,
                                         DistractorStrategy strategy, std::optional<std::string_view> label_set) {
    switch (strategy) {
        case DistractorStrategy::Random:
            return off_lineage(kb, label_set ? label_set_conditions(kb, *label_set) : kb.leaves(), truth);
        case DistractorStrategy::Hierarchical: {
            std::vector<std::string> above = kb.ancestors(truth);
            if (!above.empty()) {
                above.pop_back();  // the root ("skin condition") is no diagnosis
            }
            return above;
        }
        case DistractorStrategy::Ddx:
            return off_lineage(kb, kb.neighbours(truth), truth);
    }
    return {};
}

}  // namespace

std::vector<std::string> sample_options(const KnowledgeBase & kb, std::string_view truth, DistractorStrategy strategy,
                                        std::size_t count, std::uint64_t seed,
                                        std::optional<std::string_view> label_set) {
    if (count < 2) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("option count {} is too small: a question needs the answer and a distractor", count));
    }
    kb.condition(truth);  // refuses unknown ids
    std::mt19937_64 rng(seed);
    std::vector<std::string> pool = distractor_pool(kb, truth, strategy, label_set);
    const std::size_t distractors = std::min(count - 1, pool.size());
    shuffle_prefix(pool, distractors, rng);
    std::vector<std::string> options(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(distractors));
    options.emplace_back(truth);
    shuffle_prefix(options, options.size(), rng);
    return options;
}

std::vector<std::string> sample_path_options(const KnowledgeBase & kb, std::string_view truth, std::size_t count,
                                             std::size_t max_on_path, std::uint64_t seed,
                                             std::optional<std::string_view> label_set) {
    if (count < 2 || max_on_path < 1) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("option count {} / path options {}: a question needs 2 options and 1 on the path", count,
                                max_on_path));
    }
    std::vector<std::string> path = kb.path_to_root(truth);  // refuses unknown ids
    path.pop_back();                                         // the root ("skin condition") is no diagnosis
    if (path.empty()) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("truth '{}': the taxonomy's root is no diagnosis", truth));
    }
    std::mt19937_64 rng(seed);
    const std::size_t on_path = 1 + uniform_index(rng, std::min({max_on_path, path.size(), count - 1}));
    shuffle_prefix(path, on_path, rng);
    std::vector<std::string> options(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(on_path));

    std::vector<std::string> pool = distractor_pool(kb, truth, DistractorStrategy::Random, label_set);
    std::vector<std::string> extra = off_lineage(kb, kb.leaves(), truth);
    std::erase_if(extra, [&](const std::string & id) { return std::binary_search(pool.begin(), pool.end(), id); });
    for (auto * source : {&pool, &extra}) {
        const std::size_t wanted = std::min(count - options.size(), source->size());
        shuffle_prefix(*source, wanted, rng);
        options.insert(options.end(), source->begin(), source->begin() + static_cast<std::ptrdiff_t>(wanted));
    }
    shuffle_prefix(options, options.size(), rng);
    return options;
}

std::optional<std::size_t> correct_option(const KnowledgeBase & kb, const std::vector<std::string> & options,
                                          std::string_view truth) {
    for (const auto & node : kb.path_to_root(truth)) {
        if (const auto it = std::find(options.begin(), options.end(), node); it != options.end()) {
            return static_cast<std::size_t>(it - options.begin());
        }
    }
    return std::nullopt;
}

}  // namespace dermlens::kb
