// What several protocols do alike: plan one item per test image and configuration, run the
// re-ranking pipeline on an item and record it, ask a multiple-choice question, and draw
// the confusion matrix and reliability diagram of a configuration.
#pragma once

#include "eval/protocol.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dermlens::eval {

// One item per test image and configuration, image-major (every configuration of an image
// together, so the image is encoded once), configurations in the given order.
std::vector<WorkItem> plan_per_image(const EvalSession & session, const std::vector<nlohmann::ordered_json> & configs);

// The configurations `base` with "seed" = seed .. seed + seeds - 1 appended to each.
std::vector<nlohmann::ordered_json> with_seeds(const std::vector<nlohmann::ordered_json> & base, const EvalParams & params);

// A seed for what varies per image (option order, option sampling): the image's name and the run's seed.
std::uint64_t per_image_seed(const std::string & image, std::uint64_t seed);

// The pipeline's parameters for `strategy` ("direct", "in-context", …) under the run's prompt
// options; options shuffled with `seed` so that runs differ as the paper's five runs did.
pipeline::RerankParams rerank_params(const EvalParams & params, const std::string & strategy, std::uint64_t seed);

// Runs the re-ranking pipeline on the item's image (its configuration's "seed"), with the
// probe when given, over the dataset's classes, and records it: truth, predicted, the fused
// probabilities over every class (0 outside the candidates), the candidates, abstention, the
// description and answer text, timings.
nlohmann::ordered_json rerank_record(EvalSession & session, const WorkItem & item, const pipeline::RerankParams & params,
                                     const probe::Probe * probe);

// rerank_record of `strategy` under the run's prompt options and the item's "seed"; the
// strategies that re-rank the probe's candidates (topk, combined) on that seed's --shots probe.
nlohmann::ordered_json strategy_record(EvalSession & session, const WorkItem & item, const std::string & strategy);

// The probe's record: truth, predicted (its top class), probabilities, its top-k classes and,
// when it is calibrated, its conformal set ("set").
nlohmann::ordered_json probe_record(EvalSession & session, const WorkItem & item, const probe::Probe & probe);

// What every record starts with: the item's image, its label, configuration and truth (its class).
nlohmann::ordered_json sample_header(const EvalSession & session, const WorkItem & item);

struct MultipleChoiceAnswer {
    std::vector<double> probabilities;  // per option
    nlohmann::ordered_json timings;     // encode_ms, prefill_ms, total_ms, prompt_tokens, reused_tokens
};

// The model's probabilities over the lettered `options` (one forward step, as --decide score),
// in the run's prompt style.
MultipleChoiceAnswer ask_multiple_choice(EvalSession & session, std::size_t image, const std::vector<std::string> & options);

// The confusion matrix (with a "no answer" column when any sample went unanswered) and, when
// the group has probabilities, the reliability diagram of `group`; files named after `name`.
void add_group_plots(ProtocolReport & report, const GroupSummary & group, const std::vector<std::string> & labels,
                     const std::string & name, const std::string & title);

// "Conformal candidate sets": per group whose records carry the probe's conformal sets, their
// coverage, mean and median size, one-class and empty shares, the worst class's coverage and
// the coverage of one-class sets; nothing when no group has sets.
void add_conformal_table(ProtocolReport & report, const EvalSession & session);

// The number of classes of the dataset, for summarise_groups.
std::size_t dataset_classes(const EvalSession & session);

// The run's summary options: --top-k, --bootstrap resamples seeded with --seed.
SummaryOptions summary_options(const EvalParams & params);

// summarise_groups of samples whose records index the dataset's classes, with the run's options.
std::vector<GroupSummary> summarise_dataset_groups(const EvalSession & session, const std::vector<StoredSample> & samples);

// The knowledge-base condition of each of the dataset's classes, in class order.
std::vector<std::string> class_conditions(const EvalSession & session);

// The dataset's name in the tables: the manifest's file (or folder) name.
std::string dataset_name(const EvalSession & session);

}  // namespace dermlens::eval
