#include "rewards/trajectory.h"

#include "common/random.h"
#include "dermlens/error.h"
#include "pipeline/data_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>
#include <utility>

namespace dermlens::rewards {
namespace {

using Fill = std::vector<std::pair<std::string, std::string>>;

// The prompt file `name` with each {placeholder} replaced.
std::string filled(std::string_view name, const Fill & values) {
    std::string text = pipeline::read_prompt(name);
    for (const auto & [key, value] : values) {
        const std::string placeholder = "{" + key + "}";
        for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size())) {
            text.replace(at, placeholder.size(), value);
        }
    }
    return text;
}

// Generated text goes between tags: it must not open or close one.
std::string without_tags(std::string text) {
    std::erase_if(text, [](char c) { return c == '<' || c == '>'; });
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

std::string name_of(const kb::KnowledgeBase & kb, const std::string & id) {
    return kb.condition(id).name;
}

// The diagnostic rule of a condition: its description or, failing that, its nearest described
// ancestor's, as sentences.
std::string rule(const kb::KnowledgeBase & kb, const std::string & id) {
    for (const auto & node : kb.path_to_root(id)) {
        if (const auto & d = kb.condition(node).description) {
            return filled("trajectory-rule", {{"lesion_type", d->lesion_type},
                                              {"shape_border", d->shape_border},
                                              {"colour", d->colour},
                                              {"texture", d->texture},
                                              {"location", d->location},
                                              {"diagnosis", name_of(kb, id)}});
        }
    }
    return fmt::format("The clinical picture is that of {}.", name_of(kb, id));
}

// Any other diagnosis among the cases, by the seed.
std::string random_other(const std::vector<std::string> & diagnoses, const std::string & id, std::mt19937_64 & rng) {
    std::vector<std::string> others;
    std::copy_if(diagnoses.begin(), diagnoses.end(), std::back_inserter(others), [&](const auto & d) { return d != id; });
    return others.empty() ? std::string() : others[uniform_index(rng, others.size())];
}

// The differential of `id` (algorithm 4, then the random fallback of algorithms 2-3); "" when none.
std::string differential_of(const kb::KnowledgeBase & kb, const std::string & id, const kb::ConditionSet & with_cases,
                            const std::vector<std::string> & diagnoses, std::mt19937_64 & rng) {
    kb::ConditionSet others = with_cases;
    others.erase(id);
    if (const auto neighbour = kb::resolve_ddx_neighbor(kb, id, others)) {
        return *neighbour;
    }
    return random_other(diagnoses, id, rng);
}

class Writer {
public:
    Writer(const kb::KnowledgeBase & kb, const ImageTextGenerator * vlm) : kb_(kb), vlm_(vlm) {}

    std::string type1(const Case & c) const {
        std::string rationale = rule(kb_, c.condition);
        if (vlm_ != nullptr) {
            rationale = without_tags((*vlm_)(filled("trajectory-rationale", {{"diagnosis", name_of(kb_, c.condition)}}), c.image));
        }
        return filled("trajectory-type1", {{"rationale", rationale},
                                           {"diagnosis", name_of(kb_, c.condition)},
                                           {"taxonomy", taxonomy_sentence(kb_, c.condition)}});
    }

    // Types 2 and 3: `primary` compared with `differential`; the final diagnosis is the image's truth.
    std::string differential(const Case & c, const std::string & primary, const std::string & differential) const {
        const std::string & final_id = c.condition;
        const std::string & other = final_id == primary ? differential : primary;
        std::string comparison = filled("trajectory-compare-fallback",
                                        {{"kept", name_of(kb_, final_id)}, {"other", name_of(kb_, other)}});
        if (vlm_ != nullptr) {
            const std::string prompt = filled("trajectory-compare", {{"first", name_of(kb_, primary)},
                                                                     {"first_rule", rule(kb_, primary)},
                                                                     {"second", name_of(kb_, differential)},
                                                                     {"second_rule", rule(kb_, differential)},
                                                                     {"answer", name_of(kb_, final_id)},
                                                                     {"which", final_id == primary ? "FIRST" : "SECOND"}});
            if (std::string written = without_tags((*vlm_)(prompt, c.image)); !written.empty()) {
                comparison = std::move(written);
            }
        }
        return filled("trajectory-type23", {{"primary_rule", rule(kb_, primary)},
                                            {"primary", name_of(kb_, primary)},
                                            {"differential", name_of(kb_, differential)},
                                            {"differential_rule", rule(kb_, differential)},
                                            {"comparison", comparison},
                                            {"final", name_of(kb_, final_id)},
                                            {"taxonomy", taxonomy_sentence(kb_, final_id)}});
    }

private:
    const kb::KnowledgeBase & kb_;
    const ImageTextGenerator * vlm_;
};

}  // namespace

void TrajectoryParams::validate() const {
    if (max_differential_per_diagnosis > 1000000) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("max_differential_per_diagnosis {}: at most 1000000", max_differential_per_diagnosis),
                    "max_differential_per_diagnosis");
    }
}

std::string taxonomy_sentence(const kb::KnowledgeBase & kb, const std::string & id) {
    std::vector<std::string> ancestors;
    for (const auto & ancestor : kb.ancestors(id)) {
        if (kb.parent(ancestor)) {  // the root is no category worth naming
            ancestors.push_back(name_of(kb, ancestor));
        }
    }
    std::string sentence = name_of(kb, id);
    sentence.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(sentence.front())));
    if (!ancestors.empty()) {
        sentence += " is a subtype of " + ancestors.front();
        for (std::size_t i = 1; i < ancestors.size(); ++i) {
            sentence += (i + 1 == ancestors.size() ? ", and " : ", ") + ancestors[i];
        }
    }
    const auto malignancy = kb.malignancy(id);
    if (!malignancy) {
        return sentence + (ancestors.empty() ? " has no recorded lesion condition." : ".");
    }
    const std::string_view kind = *malignancy == kb::Malignancy::Precancerous ? "precancerous (in situ)"
                                                                               : kb::malignancy_name(*malignancy);
    return sentence + (ancestors.empty() ? " is" : ", and is") + fmt::format(" generally classified as {}.", kind);
}

std::vector<Trajectory> synthesize_trajectories(const kb::KnowledgeBase & kb, const std::vector<Case> & cases,
                                                const TrajectoryParams & params, const ImageTextGenerator * writer) {
    params.validate();
    const Writer write(kb, writer);
    const std::string prompt1 = pipeline::read_prompt("skin-r1-sft-type1");
    const std::string prompt23 = pipeline::read_prompt("skin-r1-sft-type23");
    kb::ConditionSet with_cases;
    for (const auto & c : cases) {
        with_cases.insert(kb.condition(c.condition).id);  // refuses unknown ids
    }
    const std::vector<std::string> diagnoses(with_cases.begin(), with_cases.end());

    std::vector<Trajectory> trajectories;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        trajectories.push_back({1, i, prompt1, write.type1(cases[i]), cases[i].condition, {}, {}});
    }
    std::mt19937_64 rng(params.seed);
    std::vector<std::size_t> order(cases.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    shuffle(order, rng);
    std::map<std::string, std::size_t> used;
    for (const std::size_t i : order) {
        const Case & c = cases[i];
        if (used[c.condition] >= params.max_differential_per_diagnosis) {
            continue;
        }
        const std::string other = differential_of(kb, c.condition, with_cases, diagnoses, rng);
        if (other.empty()) {
            continue;
        }
        ++used[c.condition];
        trajectories.push_back({2, i, prompt23, write.differential(c, c.condition, other), c.condition, c.condition, other});
        trajectories.push_back({3, i, prompt23, write.differential(c, other, c.condition), c.condition, other, c.condition});
    }
    return trajectories;
}

}  // namespace dermlens::rewards
