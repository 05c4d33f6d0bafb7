// dermlens reward score: the rewards of completions against their items (dermlens/rewards.h,
// docs/rewards.md), one JSON line per completion, with GRPO's group advantages on request.
#include "cli_errors.h"
#include "commands.h"
#include "kb_options.h"

#include "dermlens/error.h"
#include "dermlens/rewards.h"
#include "reward_models.h"
#include "rewards/caption_weights.h"
#include "rewards/jsonl.h"

#include <fmt/format.h>

#include <limits>
#include <memory>
#include <sstream>

namespace dermlens::cli {
namespace {

struct ScoreOptions {
    KbOptions kb;
    std::string reward;
    std::filesystem::path items;
    std::filesystem::path completions;
    std::size_t group_size = 0;
    double epsilon = 1e-4;
    std::string format_rule = "ordered";
    std::string answer_tag = "final diagnosis";
    std::vector<double> position_weights;
    double reference_empty_score = 5;
    bool binarise = false;
    std::filesystem::path judge_model;  // skinflow-caption: a GGUF text model scores the fields
    int threads = 0;
};

struct Scorer {
    const ScoreOptions & options;
    const kb::KnowledgeBase & base;
    rewards::SkinR1Params skinr1;
    rewards::TopKParams topk;
    rewards::CaptionParams caption;
    const rewards::TextGenerator * judge = nullptr;

    rewards::RewardScore operator()(const std::string & completion, const nlohmann::json & item) const {
        if (options.reward == "skinr1") {
            return rewards::score_skinr1(base, completion, item, skinr1);
        }
        if (options.reward == "skinflow-topk") {
            return rewards::score_skinflow_topk(base, completion, item, topk);
        }
        return rewards::score_skinflow_caption(completion, item, caption, judge);
    }
};

int run_score(const ScoreOptions & options) {
    options.kb.validate();
    const kb::KnowledgeBase base = options.kb.load();
    Scorer scorer{options, base, {}, {}, {}, nullptr};
    scorer.skinr1.format_rule = rewards::parse_format_rule(options.format_rule);
    scorer.skinr1.answer_tag = options.answer_tag;
    scorer.skinr1.validate();
    scorer.topk.position_weights = options.position_weights;
    scorer.topk.validate();
    scorer.caption.reference_empty_score = options.reference_empty_score;
    scorer.caption.binarise = options.binarise;
    scorer.caption.validate();
    std::unique_ptr<Engine> engine;
    rewards::TextGenerator judge;
    if (!options.judge_model.empty()) {
        if (options.reward != "skinflow-caption") {
            throw Error(ErrorKind::InvalidArgument, "judge_model: only the skinflow-caption reward has a judge",
                        "judge_model");
        }
        EngineParams params;
        params.model = options.judge_model;
        params.threads = options.threads;
        engine = std::make_unique<Engine>(params);  // text-only: no mmproj
        judge = judge_generator(*engine);
        scorer.judge = &judge;
    }

    const std::vector<nlohmann::json> items = rewards::read_items(options.items);
    const std::vector<rewards::CompletionLine> completions =
        rewards::read_completions(options.completions, items.size(), std::max<std::size_t>(options.group_size, 1));
    std::vector<double> scores;
    std::vector<nlohmann::json> lines;
    for (const auto & c : completions) {
        const rewards::RewardScore scored = scorer(c.text, items[c.item]);
        nlohmann::json line = {{"item", c.item}, {"line", c.line}};
        line.update(rewards::to_json(scored));
        line["detail"] = scored.detail;
        if (!scored.problem.empty()) {
            line["problem"] = scored.problem;
        }
        scores.push_back(scored.score);
        lines.push_back(std::move(line));
    }
    if (options.group_size > 0) {
        const auto advantages = rewards::group_advantages(scores, options.group_size, options.epsilon);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            lines[i]["advantage"] = advantages[i];
        }
    }
    double sum = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        fmt::print("{}\n", lines[i].dump());
        sum += scores[i];
    }
    fmt::print(stderr, "dermlens: {} completions, mean {} {:.6g}\n", lines.size(), options.reward,
               lines.empty() ? 0.0 : sum / static_cast<double>(lines.size()));
    return 0;
}

struct WeightsOptions {
    std::filesystem::path completions;
};

// The caption weights file (data/rewards/caption-weights.json's form) from a model's top-K answers.
int run_caption_weights(const WeightsOptions & options) {
    std::vector<std::string> texts;
    for (const auto & line : rewards::read_completions(options.completions, 1, std::numeric_limits<std::size_t>::max())) {
        texts.push_back(line.text);
    }
    const rewards::FieldCitations citations = rewards::caption_weights_from_topk(texts);
    nlohmann::ordered_json weights;
    for (const auto & [field, weight] : citations.weights) {
        weights[field] = weight;
    }
    const nlohmann::ordered_json file = {
        {"source", fmt::format("key_matching_fields of {} top-K answers in '{}', each count plus one",
                               citations.answers, options.completions.string())},
        {"counts", citations.counts},
        {"weights", weights}};
    fmt::print("{}\n", file.dump(2));
    return 0;
}

}  // namespace

void register_reward(CLI::App & root, std::vector<Command> & commands) {
    auto * reward = root.add_subcommand("reward", "Rewards of Skin-R1 and SkinFlow, without a model");
    reward->require_subcommand(1);
    auto options = std::make_shared<ScoreOptions>();
    auto * app = reward->add_subcommand(
        "score", "Score completions against their items; one JSON line per completion (docs/rewards.md)");
    app->add_option("--reward", options->reward, "skinr1, skinflow-topk or skinflow-caption")
        ->check(CLI::IsMember({"skinr1", "skinflow-topk", "skinflow-caption"}))
        ->required();
    app->add_option("--items", options->items,
                    "JSON Lines: one item per line, or the rows `train-data export` wrote")
        ->required();
    app->add_option("--completions", options->completions,
                    "JSON Lines: a JSON string per line, or {\"completion\": ..., \"item\": N}; without \"item\", "
                    "completion j belongs to item j / group size")
        ->required();
    app->add_option("--group-size", options->group_size,
                    "Completions per item, consecutive: print GRPO's group advantages");
    app->add_option("--epsilon", options->epsilon, "Advantages: (r - mean) / (sample std + epsilon)")
        ->capture_default_str();
    app->add_option("--format-rule", options->format_rule, "skinr1: ordered (the authors' regex) or present (eq. 6 read literally)")
        ->check(CLI::IsMember({"ordered", "present"}))
        ->capture_default_str();
    app->add_option("--answer-tag", options->answer_tag, "skinr1: the answer's tag (\"diagnosis\" for SFT trajectories)")
        ->capture_default_str();
    app->add_option("--position-weights", options->position_weights,
                    "skinflow-topk: w_1,...,w_K (default: data/rewards/skinflow-topk.json)")
        ->delimiter(',');
    app->add_option("--reference-empty-score", options->reference_empty_score,
                    "skinflow-caption: a field only the prediction fills")
        ->capture_default_str();
    app->add_option("--judge-model", options->judge_model,
                    "skinflow-caption: a GGUF text model that scores each field 0-10 (else judge-free matching)");
    app->add_option("--threads", options->threads, "With --judge-model: CPU threads (0: every core)");
    app->add_flag("--binarise", options->binarise, "skinflow-caption: a field score >= 6 counts 10, else 0");
    app->add_option("--kb", options->kb.overlays, "Knowledge-base overlay folder (repeatable, read in order)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    commands.push_back({app, [options] { return run_score(*options); }});

    auto weights = std::make_shared<WeightsOptions>();
    auto * weights_app = reward->add_subcommand(
        "caption-weights", "Caption field weights from top-K answers' key_matching_fields (paper 003), as the JSON "
                           "of data/rewards/caption-weights.json");
    weights_app->add_option("--completions", weights->completions, "JSON Lines of top-K answers (as for reward score)")
        ->required();
    commands.push_back({weights_app, [weights] { return run_caption_weights(*weights); }});
}

}  // namespace dermlens::cli
