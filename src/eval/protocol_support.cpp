#include "eval/protocol_support.h"

#include "dermlens/error.h"
#include "eval/plots.h"
#include "pipeline/rerank.h"
#include "probe/candidates.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dermlens::eval {
namespace {

using json = nlohmann::ordered_json;

std::size_t class_index(const EvalDataset & dataset, const std::string & label) {
    const auto found = std::find(dataset.classes.begin(), dataset.classes.end(), label);
    if (found == dataset.classes.end()) {
        throw Error(ErrorKind::Runtime, fmt::format("the pipeline chose '{}', not one of the dataset's classes", label));
    }
    return static_cast<std::size_t>(found - dataset.classes.begin());
}

std::vector<double> softmax(const std::vector<double> & log_probabilities) {
    const double top = *std::max_element(log_probabilities.begin(), log_probabilities.end());
    std::vector<double> out;
    double sum = 0;
    for (const double l : log_probabilities) {
        out.push_back(std::exp(l - top));
        sum += out.back();
    }
    for (double & p : out) {
        p /= sum;
    }
    return out;
}

}  // namespace

json sample_header(const EvalSession & session, const WorkItem & item) {
    const EvalImage & image = session.dataset().images.at(item.image);
    return {{"image", image.image}, {"label", image.label}, {"config", item.config}, {"truth", image.cls}};
}

std::vector<WorkItem> plan_per_image(const EvalSession & session, const std::vector<json> & configs) {
    std::vector<WorkItem> items;
    const auto & rows = session.test_rows();
    for (std::size_t ordinal = 0; ordinal < rows.size(); ++ordinal) {
        const EvalImage & image = session.dataset().images[rows[ordinal]];
        for (const json & config : configs) {
            items.push_back({item_key(config, image.image), rows[ordinal], ordinal, config});
        }
    }
    return items;
}

std::vector<json> with_seeds(const std::vector<json> & base, const EvalParams & params) {
    std::vector<json> out;
    for (const json & config : base) {
        for (std::size_t s = 0; s < params.seeds; ++s) {
            json seeded = config;
            seeded["seed"] = params.seed + s;
            out.push_back(std::move(seeded));
        }
    }
    return out;
}

std::uint64_t per_image_seed(const std::string & image, std::uint64_t seed) {
    // FNV-1a: fixed by definition, unlike std::hash.
    std::uint64_t hash = 0xcbf29ce484222325ull;
    for (const unsigned char c : image) {
        hash = (hash ^ c) * 0x100000001b3ull;
    }
    return hash ^ (seed * 0x9E3779B97F4A7C15ull);
}

pipeline::RerankParams rerank_params(const EvalParams & params, const std::string & strategy, std::uint64_t seed) {
    pipeline::RerankParams out;
    out.strategy = pipeline::parse_strategy(strategy);
    out.style = params.style;
    out.schema = params.schema;
    out.decide = params.decide;
    out.candidates.top_k = params.top_k;
    out.shuffle_options = true;
    out.seed = static_cast<std::uint32_t>(seed);
    out.temperature = params.temperature;
    out.answer_tokens = params.answer_tokens;
    out.validate();
    return out;
}

json rerank_record(EvalSession & session, const WorkItem & item, const pipeline::RerankParams & params,
                   const probe::Probe * probe) {
    const EvalDataset & dataset = session.dataset();
    pipeline::Reranker reranker(session.vlm(), session.kb(), params, dataset.classes, dataset.label_set, probe,
                                &session.encoder());
    const EvalImage & image = dataset.images[item.image];
    const pipeline::RerankResult result =
        reranker.diagnose(session.encoding(item.image), {}, per_image_seed(image.image, params.seed));

    json out = sample_header(session, item);
    out["predicted"] = result.final ? json(class_index(dataset, result.final->label)) : json(nullptr);
    std::vector<double> probabilities(dataset.classes.size(), 0.0);
    json candidates = json::array();
    for (const pipeline::CandidateScore & candidate : result.candidates) {
        probabilities[class_index(dataset, candidate.label)] = candidate.fused;
        candidates.push_back(candidate.label);
    }
    out["probabilities"] = probabilities;
    out["candidates"] = std::move(candidates);
    out["abstained"] = result.abstained;
    if (result.abstained) {
        out["abstain_reason"] = result.abstain_reason;
    }
    if (result.not_sure_probability) {
        out["not_sure_probability"] = *result.not_sure_probability;
    }
    if (!result.description_text.empty()) {
        out["description"] = result.description_text;
    }
    if (!result.answer_text.empty()) {
        out["answer"] = result.answer_text;
    }
    const pipeline::RerankTimings & t = result.timings;
    out["timings"] = {{"encode_ms", t.encode_ms},   {"describe_ms", t.describe_ms},     {"decide_ms", t.decide_ms},
                      {"total_ms", t.total_ms},     {"prompt_tokens", t.prompt_tokens}, {"reused_tokens", t.reused_tokens},
                      {"generated_tokens", t.generated_tokens}};
    return out;
}

json strategy_record(EvalSession & session, const WorkItem & item, const std::string & strategy) {
    const std::uint64_t seed = item.config["seed"];
    const bool on_probe = pipeline::strategy_parts(pipeline::parse_strategy(strategy)).probe_candidates;
    const probe::Probe * probe = on_probe ? &session.probe(session.params().shots, seed) : nullptr;
    return rerank_record(session, item, rerank_params(session.params(), strategy, seed), probe);
}

json probe_record(EvalSession & session, const WorkItem & item, const probe::Probe & probe) {
    const std::vector<double> probabilities = session.probe_probabilities(probe, item.image);
    std::vector<std::size_t> ranked(probabilities.size());
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        ranked[i] = i;
    }
    // Most likely first; equal probabilities keep class order, as metrics::ranked_classes does.
    std::stable_sort(ranked.begin(), ranked.end(),
                     [&](std::size_t a, std::size_t b) { return probabilities[a] > probabilities[b]; });
    ranked.resize(std::min(ranked.size(), session.params().top_k));
    json out = sample_header(session, item);
    out["predicted"] = ranked.front();
    out["probabilities"] = probabilities;
    out["top_k"] = ranked;
    if (probe.calibration) {
        // The conformal set at the probe's calibrated level: its coverage and size are scored.
        const Eigen::Map<const Eigen::RowVectorXd> row(probabilities.data(), static_cast<Eigen::Index>(probabilities.size()));
        probe::CandidateParams conformal;
        conformal.mode = probe::CandidateMode::Conformal;
        // Randomised scores: each image draws its own tie-break, the same in every run of this seed.
        conformal.set.draw_seed =
            per_image_seed(session.dataset().images[item.image].image, item.config.value("seed", std::uint64_t{0}));
        out["set"] = probe::candidate_sets(probe, row, conformal).front();
    }
    return out;
}

MultipleChoiceAnswer ask_multiple_choice(EvalSession & session, std::size_t image, const std::vector<std::string> & options) {
    pipeline::PromptRequest request;
    request.style = session.params().style;
    for (const std::string & option : options) {
        request.options.push_back({option, ""});
    }
    const pipeline::PromptTurns turns = pipeline::build_prompt(request);
    const model::ChatPrompt prompt{{{model::ChatTurn::Role::User, pipeline::first_turn_text(turns)}}, turns.answer_lead};
    const model::ImageEncoding & encoding = session.encoding(image);
    const model::NextTokenScores scores = session.vlm().score_next_token(encoding, prompt, turns.markers);
    return {softmax(scores.log_probabilities),
            {{"encode_ms", encoding.encode_ms},
             {"prefill_ms", scores.timings.prefill_ms},
             {"total_ms", scores.timings.total_ms},
             {"prompt_tokens", scores.prompt_tokens},
             {"reused_tokens", scores.reused_tokens}}};
}

void add_group_plots(ProtocolReport & report, const GroupSummary & group, const std::vector<std::string> & labels,
                     const std::string & name, const std::string & title) {
    if (group.samples == 0) {
        return;
    }
    // The "no answer" row and column only when some sample went unanswered.
    const Eigen::Index n = group.confusion.rows();
    const bool unanswered = group.confusion.col(n - 1).sum() > 0;
    std::vector<std::string> axis = labels;
    Eigen::MatrixXi matrix = group.confusion;
    if (unanswered) {
        axis.push_back("no answer");
    } else {
        matrix = group.confusion.topLeftCorner(n - 1, n - 1);
    }
    report.plots.push_back({fmt::format("confusion_{}.png", name), fmt::format("Confusion matrix: {}", title),
                            confusion_matrix_plot(matrix, axis, fmt::format("Confusion matrix: {}", title))});
    if (!group.reliability.empty()) {
        const double ece = metrics::expected_calibration_error(group.reliability);
        report.plots.push_back({fmt::format("reliability_{}.png", name), fmt::format("Reliability diagram: {}", title),
                                reliability_diagram(group.reliability, ece, fmt::format("Reliability: {}", title))});
    }
}

void add_conformal_table(ProtocolReport & report, const EvalSession & session) {
    const EvalParams & params = session.params();
    ReportTable table{"Conformal candidate sets",
                      fmt::format("The probe's {}{} sets at its calibrated alpha, mean (± std) over runs; coverage and "
                                  "shares in percent. Worst class: the lowest coverage of any class; 1-class coverage: "
                                  "among the one-class sets (size-stratified).",
                                  params.conformal_score, params.conformal_per_class ? " class-conditional" : ""),
                      {"configuration", "coverage", "mean size", "median size", "1-class sets", "empty sets",
                       "worst class", "1-class coverage"},
                      {}};
    const auto number_cell = [](const GroupSummary & group, const std::string & metric) {
        const MetricValue * value = group.metric(metric);
        return value && std::isfinite(value->mean) ? fmt::format("{:.2f} (± {:.2f})", value->mean, value->std)
                                                   : std::string("-");
    };
    for (const GroupSummary & group : report.groups) {
        if (group.metric("set_coverage") == nullptr) {
            continue;
        }
        table.rows.push_back({group.config.dump(), percent_cell(&group, "set_coverage"),
                              number_cell(group, "mean_set_size"), number_cell(group, "median_set_size"),
                              percent_cell(&group, "singleton_share"), percent_cell(&group, "empty_set_share"),
                              percent_cell(&group, "worst_class_set_coverage"),
                              percent_cell(&group, "set_coverage_size_1")});
    }
    if (!table.rows.empty()) {
        report.tables.push_back(std::move(table));
    }
}

std::size_t dataset_classes(const EvalSession & session) {
    return session.dataset().classes.size();
}

SummaryOptions summary_options(const EvalParams & params) {
    return {params.top_k, params.bootstrap_resamples, params.seed};
}

std::vector<GroupSummary> summarise_dataset_groups(const EvalSession & session, const std::vector<StoredSample> & samples) {
    return summarise_groups(samples, [&](const json &) { return dataset_classes(session); },
                            summary_options(session.params()));
}

std::vector<std::string> class_conditions(const EvalSession & session) {
    const EvalDataset & dataset = session.dataset();
    const kb::LabelSet & set = session.kb().label_set(dataset.label_set);
    std::vector<std::string> out;
    for (const std::string & label : dataset.classes) {
        const auto found = std::find_if(set.labels.begin(), set.labels.end(),
                                        [&](const kb::Label & known) { return known.label == label; });
        if (found == set.labels.end()) {
            throw Error(ErrorKind::InvalidInput, fmt::format("class '{}' is not in label set '{}'", label, set.name));
        }
        out.push_back(found->condition);
    }
    return out;
}

std::string dataset_name(const EvalSession & session) {
    return session.dataset().manifest.filename().string();
}

}  // namespace dermlens::eval
