// Skin-R1's reward (paper 002 section 3.2.2, eqs. 5-8): R_total = R_format + R_gran + R_malignancy.
#include "dermlens/error.h"
#include "dermlens/rewards.h"
#include "kb/multiple_choice.h"
#include "pipeline/answer_parse.h"
#include "pipeline/direct.h"
#include "rewards/item_fields.h"
#include "rewards/tags.h"

#include "common/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace dermlens::rewards {
namespace {

constexpr double kGranMax = 0.75;       // eq. 7: the finest label on the truth's path
constexpr double kMalignancyReward = 0.25;  // eq. 8

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// The authors' rule for b-hat: the first whole word benign | precancerous | malignant (any case)
// in the answer block; "precancerous" is the precancerous-in-situ class.
std::string predicted_malignancy(std::string_view answer) {
    const std::string lower = ascii_lower(answer);
    std::size_t best = std::string::npos;
    std::string found;
    for (const std::string_view word : {"benign", "precancerous", "malignant"}) {
        for (auto at = lower.find(word); at != std::string::npos; at = lower.find(word, at + 1)) {
            const auto end = at + word.size();
            const bool whole = (at == 0 || !is_word_char(lower[at - 1])) && (end == lower.size() || !is_word_char(lower[end]));
            if (whole) {
                if (at < best) {
                    best = at;
                    found = word;
                }
                break;
            }
        }
    }
    return found;
}

struct McqItem {
    std::vector<std::string> option_names;
    std::vector<double> option_scores;
    std::string malignancy;
};

McqItem read_item(const nlohmann::json & raw) {
    nlohmann::json storage;
    const nlohmann::json & item = item_object(raw, storage);
    McqItem mcq;
    mcq.option_names = item.contains("option_names") ? string_list_field(item, "option_names")
                                                     : string_list_field(item, "options");
    mcq.option_scores = number_list_field(item, "option_scores");
    mcq.malignancy = string_field(item, "malignancy", /*required=*/false);
    if (mcq.option_names.size() < 2 || mcq.option_names.size() > pipeline::kMaxOptions) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("item.options: {} options; a question has 2 to {}", mcq.option_names.size(),
                                pipeline::kMaxOptions),
                    "options");
    }
    if (mcq.option_scores.size() != mcq.option_names.size()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("item.option_scores: {} scores for {} options", mcq.option_scores.size(),
                                mcq.option_names.size()),
                    "option_scores");
    }
    if (std::any_of(mcq.option_scores.begin(), mcq.option_scores.end(),
                    [](double s) { return !(s >= 0 && s <= kGranMax); })) {
        throw Error(ErrorKind::InvalidArgument, "item.option_scores: each must lie in [0, 0.75] (eq. 7)",
                    "option_scores");
    }
    if (!mcq.malignancy.empty() && !kb::parse_malignancy(mcq.malignancy)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("item.malignancy '{}': must be benign, malignant, precancerous or empty", mcq.malignancy),
                    "malignancy");
    }
    return mcq;
}

// The option the answer block chooses: the pipeline's strict reading (a letter alone or before
// ":", ")", ".", ",", or "(X)"; else exactly one option named, by its text or a knowledge-base
// name or synonym of its condition).
pipeline::ParsedChoice chosen_option(const kb::KnowledgeBase & kb, const std::string & answer,
                                     const std::vector<std::string> & option_names) {
    pipeline::PromptTurns turns;
    for (std::size_t i = 0; i < option_names.size(); ++i) {
        turns.markers.emplace_back(1, pipeline::option_letter(i));
    }
    return pipeline::parse_choice(answer, turns, option_names, pipeline::PromptStyle::Dermlens, &kb);
}

std::size_t gran_depth(const kb::KnowledgeBase & kb, const std::string & option, const std::string & truth) {
    const bool on_path = option == truth || kb.is_ancestor(option, truth);
    return on_path ? kb.depth(option) : 0;  // the root (depth 0) is on every path and no diagnosis
}

}  // namespace

std::string_view gran_normalise_name(GranNormalise value) noexcept {
    return value == GranNormalise::Path ? "path" : "options";
}

GranNormalise parse_gran_normalise(std::string_view name) {
    if (name == "path") {
        return GranNormalise::Path;
    }
    if (name == "options") {
        return GranNormalise::Options;
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("gran_normalise '{}': must be path or options", name),
                "gran_normalise");
}

std::string_view format_rule_name(FormatRule value) noexcept {
    return value == FormatRule::Ordered ? "ordered" : "present";
}

FormatRule parse_format_rule(std::string_view name) {
    if (name == "ordered") {
        return FormatRule::Ordered;
    }
    if (name == "present") {
        return FormatRule::Present;
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("format_rule '{}': must be ordered or present", name),
                "format_rule");
}

void SkinR1Params::validate() const {
    for (const auto & [field, tag] : {std::pair{"thinking_tag", &thinking_tag}, std::pair{"answer_tag", &answer_tag}}) {
        if (tag->empty() || tag->find_first_of("<>") != std::string::npos) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("{} '{}': must be a non-empty tag name without '<' or '>'", field, *tag), field);
        }
    }
}

std::vector<double> option_gran_scores(const kb::KnowledgeBase & kb, const std::string & truth,
                                       const std::vector<std::string> & options, GranNormalise normalise) {
    const std::size_t truth_depth = kb.depth(truth);
    if (truth_depth == 0) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("truth '{}': the taxonomy's root is no diagnosis", truth),
                    "truth");
    }
    std::vector<std::size_t> depths;
    for (const auto & option : options) {
        depths.push_back(gran_depth(kb, option, truth));
    }
    const std::size_t deepest = *std::max_element(depths.begin(), depths.end());
    const double scale = normalise == GranNormalise::Path ? static_cast<double>(truth_depth) : static_cast<double>(deepest);
    std::vector<double> scores;
    for (const auto depth : depths) {
        scores.push_back(depth == 0 ? 0.0 : kGranMax * static_cast<double>(depth) / scale);
    }
    return scores;
}

nlohmann::json skinr1_item(const kb::KnowledgeBase & kb, const std::string & truth,
                           const std::vector<std::string> & options, GranNormalise normalise,
                           const std::string & label_set) {
    if (options.size() < 2 || options.size() > pipeline::kMaxOptions) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("options: {} options; a question has 2 to {}", options.size(), pipeline::kMaxOptions),
                    "options");
    }
    // A condition id as it is; a label through its label set.
    const std::string truth_id = kb.contains(truth) || label_set.empty() ? kb.resolve(truth) : kb.resolve(truth, label_set);
    std::vector<std::string> ids;
    std::vector<std::string> names;
    for (const auto & option : options) {
        ids.push_back(kb.resolve(option));
        names.push_back(kb.condition(ids.back()).name);
    }
    const auto correct = kb::correct_option(kb, ids, truth_id);
    const auto malignancy = kb.malignancy(truth_id);
    return {{"task", "mcq"},
            {"truth", truth_id},
            {"label_set", label_set},
            {"options", ids},
            {"option_names", names},
            {"option_scores", option_gran_scores(kb, truth_id, ids, normalise)},
            {"correct", correct ? std::string(1, pipeline::option_letter(*correct)) : std::string()},
            {"malignancy", malignancy ? std::string(kb::malignancy_name(*malignancy)) : std::string()},
            {"gran_normalise", gran_normalise_name(normalise)}};
}

double skinr1_format(std::string_view completion, const SkinR1Params & params) {
    params.validate();
    return has_tag_structure(completion, params) ? 1.0 : 0.0;
}

RewardScore score_skinr1(const kb::KnowledgeBase & kb, std::string_view completion, const nlohmann::json & item,
                         const SkinR1Params & params) {
    params.validate();
    const McqItem mcq = read_item(item);
    RewardScore result;
    const double format = has_tag_structure(completion, params) ? 1.0 : 0.0;
    double gran = 0;
    double malignancy = 0;
    result.detail["choice"] = nullptr;
    result.detail["choice_status"] = "unparseable";
    result.detail["predicted_malignancy"] = nullptr;
    if (const auto answer = tagged_block(completion, params.answer_tag)) {
        const pipeline::ParsedChoice choice = chosen_option(kb, *answer, mcq.option_names);
        result.detail["choice_status"] = pipeline::choice_status_name(choice.status);
        if (choice.index) {
            result.detail["choice"] = std::string(1, pipeline::option_letter(*choice.index));
            gran = mcq.option_scores[*choice.index];
        } else {
            result.problem = choice.problem;
        }
        const std::string predicted = predicted_malignancy(*answer);
        if (!predicted.empty()) {
            result.detail["predicted_malignancy"] = predicted;
            malignancy = predicted == mcq.malignancy ? kMalignancyReward : 0.0;
        }
    } else {
        result.problem = fmt::format("no <{0}>...</{0}> block", params.answer_tag);
    }
    result.parts = {{"format", format}, {"gran", gran}, {"malignancy", malignancy}};
    result.score = format + gran + malignancy;
    return result;
}

}  // namespace dermlens::rewards
