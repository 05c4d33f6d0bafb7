// Paper 003's open-vocabulary evaluation (table 2): the model names its six most likely
// diseases, with no options to choose from, in SkinFlow's top-K JSON (pipeline/open_topk.h);
// each name is graded against the truth through the knowledge base (graded_diagnosis.h), and
// Top-k is the share of images with a correct diagnosis among the first k.
#include "metrics/graded_diagnosis.h"
#include "eval/plots.h"
#include "eval/protocol_factories.h"
#include "eval/protocol_support.h"

#include "pipeline/answer_parse.h"
#include "pipeline/open_topk.h"
#include "pipeline/rerank.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::eval {
namespace {

using json = nlohmann::ordered_json;
using Records = std::vector<const json *>;

const std::string kNoAnswer = "no_answer";  // the top-1 "grade" of a reply that lists no disease

// The metrics' names in summary.json: graded Top-k, and the share of first diagnoses of a grade.
std::string graded_top_k_metric(std::size_t k) {
    return fmt::format("graded_top_{}_accuracy", k);
}

std::string top1_metric(std::string_view grade) {
    return fmt::format("top1_{}", grade);
}

// The column titles of the top-1 grades: "acceptable parent" for acceptable_parent.
std::string title_of(std::string_view grade) {
    std::string title(grade);
    std::replace(title.begin(), title.end(), '_', ' ');
    return title;
}

// What a first diagnosis can be: every grade, then no answer.
std::vector<std::string> top1_grades() {
    std::vector<std::string> grades;
    for (const metrics::Grade grade : metrics::kGrades) {
        grades.emplace_back(metrics::grade_name(grade));
    }
    grades.push_back(kNoAnswer);
    return grades;
}

// The dataset's class of the condition a diagnosis names, when it names one: the strict
// reading that summarise_groups scores as "predicted".
json class_of(const EvalSession & session, const std::optional<std::string> & condition) {
    if (!condition) {
        return nullptr;
    }
    const EvalDataset & dataset = session.dataset();
    for (std::size_t c = 0; c < dataset.classes.size(); ++c) {
        if (session.kb().resolve(dataset.classes[c], dataset.label_set) == *condition) {
            return c;
        }
    }
    return nullptr;
}

json diagnoses_json(const std::vector<metrics::GradedDiagnosis> & graded) {
    json out = json::array();
    for (const metrics::GradedDiagnosis & diagnosis : graded) {
        out.push_back({{"name", diagnosis.name},
                       {"condition", diagnosis.condition ? json(*diagnosis.condition) : json(nullptr)},
                       {"grade", metrics::grade_name(diagnosis.grade)}});
    }
    return out;
}

// The records of the samples that did not fail, per seed.
std::map<long long, Records> records_per_seed(const std::vector<StoredSample> & samples) {
    std::map<long long, Records> out;
    for (const StoredSample & sample : samples) {
        if (!sample.error) {
            out[sample.record["config"]["seed"].get<long long>()].push_back(&sample.record);
        }
    }
    return out;
}

bool correct_within(const json & record, std::size_t k) {
    const json & rank = record["first_correct_rank"];
    return !rank.is_null() && rank.get<std::size_t>() <= k;
}

std::string top1_grade(const json & record) {
    const json & diagnoses = record["diagnoses"];
    return diagnoses.empty() ? kNoAnswer : diagnoses.front()["grade"].get<std::string>();
}

// The share of records for which `holds`, per seed as mean ± std and, when `bootstrapped`,
// with a 95 % interval over the pooled records.
MetricValue share_over_seeds(const std::string & name, const std::map<long long, Records> & per_seed,
                             const std::function<bool(const json &)> & holds, bool bootstrapped,
                             const EvalParams & params) {
    const auto share = [&](const Records & records) {
        const auto count = std::count_if(records.begin(), records.end(), [&](const json * r) { return holds(*r); });
        return static_cast<double>(count) / static_cast<double>(records.size());
    };
    std::vector<double> values;
    Records pooled;
    for (const auto & [seed, records] : per_seed) {
        values.push_back(share(records));
        pooled.insert(pooled.end(), records.begin(), records.end());
    }
    const metrics::MeanStd spread = metrics::mean_std(values);
    MetricValue value{name, spread.mean, spread.std, std::nullopt};
    if (bootstrapped) {
        value.interval = metrics::bootstrap_interval(
            pooled.size(),
            [&](const std::vector<std::size_t> & indices) {
                Records resample;
                for (const std::size_t i : indices) {
                    resample.push_back(pooled[i]);
                }
                return share(resample);
            },
            params.seed, params.bootstrap_resamples);
    }
    return value;
}

// Graded Top-1 … Top-K (with intervals) and the share of each grade among the first diagnoses.
void add_graded_metrics(GroupSummary & group, const std::map<long long, Records> & per_seed,
                        const EvalParams & params) {
    for (std::size_t k = 1; k <= pipeline::kOpenTopK; ++k) {
        group.metrics.push_back(share_over_seeds(
            graded_top_k_metric(k), per_seed, [k](const json & r) { return correct_within(r, k); }, true, params));
    }
    for (const std::string & grade : top1_grades()) {
        group.metrics.push_back(share_over_seeds(
            top1_metric(grade), per_seed, [&grade](const json & r) { return top1_grade(r) == grade; }, false, params));
    }
}

ReportTable topk_table(const EvalSession & session, const GroupSummary * group) {
    const EvalParams & params = session.params();
    ReportTable table{"Table 2: open-vocabulary Top-k accuracy, clinically graded",
                      fmt::format("Accuracy (%) of the first k of the model's {} diagnoses, mean (± std) over {} "
                                  "runs. A diagnosis is correct when it names the truth (or a synonym), a subclass, "
                                  "or an ancestor at most {} level(s) above it that is neither the root nor a "
                                  "top-level category.",
                                  pipeline::kOpenTopK, params.seeds, metrics::kAcceptableParentLevels),
                      {"Dataset", "Model"},
                      {{dataset_name(session), params.vlm.model_path.filename().string()}}};
    for (std::size_t k = 1; k <= pipeline::kOpenTopK; ++k) {
        table.header.push_back(fmt::format("TOP{}", k));
        table.rows[0].push_back(percent_cell(group, graded_top_k_metric(k)));
    }
    return table;
}

ReportTable top1_grade_table(const EvalSession & session, const GroupSummary * group) {
    ReportTable table{"Top-1 diagnoses by their relation to the truth",
                      "Share (%) of the first diagnoses, mean (± std) over runs; no answer: the reply listed no "
                      "disease (see parse_problem in samples.jsonl).",
                      {"Dataset"},
                      {{dataset_name(session)}}};
    for (const std::string & grade : top1_grades()) {
        table.header.push_back(title_of(grade));
        table.rows[0].push_back(percent_cell(group, top1_metric(grade)));
    }
    return table;
}

ReportPlot topk_curve(const EvalSession & session, const GroupSummary & group) {
    std::vector<std::string> ticks;
    CurveSeries graded{"graded Top-k", {}, {}};
    for (std::size_t k = 1; k <= pipeline::kOpenTopK; ++k) {
        const MetricValue * value = group.metric(graded_top_k_metric(k));
        ticks.push_back(std::to_string(k));
        graded.mean.push_back(value->mean);
        graded.std.push_back(value->std);
    }
    const std::string title = fmt::format("{}: Top-k accuracy", dataset_name(session));
    return {"topk_curve.png", "Graded Top-k accuracy against k", curve_plot(ticks, {graded}, "accuracy", title)};
}

// The model's reply to the open question about the item's image: under the grammar, greedy
// unless --temperature samples it, seeded per image and seed.
model::Generation open_topk_reply(EvalSession & session, const WorkItem & item) {
    pipeline::PromptTurns turns;
    turns.image_question = pipeline::open_topk_question();
    const model::ChatPrompt prompt{{{model::ChatTurn::Role::User, pipeline::first_turn_text(turns)}}, ""};
    const std::string & image = session.dataset().images[item.image].image;
    const auto seed = static_cast<std::uint32_t>(per_image_seed(image, item.config["seed"].get<std::uint64_t>()));
    return session.vlm().generate(
        session.encoding(item.image), prompt,
        {static_cast<int>(pipeline::kOpenTopKMaxTokens), pipeline::open_topk_grammar(), session.params().temperature,
         seed});
}

class OpenTopK final : public Protocol {
public:
    std::string name() const override { return "skinflow-topk"; }
    std::string description() const override {
        return "paper 003 table 2: open-vocabulary Top-1 to Top-6 accuracy, each named diagnosis graded against the "
               "truth through the knowledge base (synonym, subclass and close parent correct; broad parent, sibling "
               "and unrelated wrong)";
    }

    std::vector<WorkItem> plan(const EvalSession & session) const override {
        return plan_per_image(session, with_seeds({{{"k", pipeline::kOpenTopK}}}, session.params()));
    }

    json run(const WorkItem & item, EvalSession & session) const override {
        const EvalDataset & dataset = session.dataset();
        const EvalImage & image = dataset.images[item.image];
        const model::Generation reply = open_topk_reply(session, item);
        const pipeline::SkinFlowDiseases parsed = pipeline::parse_skinflow_diseases(reply.text);
        std::vector<metrics::GradedDiagnosis> graded;
        for (std::size_t i = 0; i < std::min(parsed.names.size(), pipeline::kOpenTopK); ++i) {
            graded.push_back(
                metrics::grade_diagnosis(session.kb(), parsed.names[i], dataset.classes[image.cls], dataset.label_set));
        }
        const std::optional<std::size_t> rank = metrics::first_correct_rank(graded);

        json out = sample_header(session, item);
        out["predicted"] = graded.empty() ? json(nullptr) : class_of(session, graded.front().condition);
        out["answer"] = reply.text;
        if (!parsed.problem.empty()) {
            out["parse_problem"] = parsed.problem;
        }
        out["diagnoses"] = diagnoses_json(graded);
        out["first_correct_rank"] = rank ? json(*rank) : json(nullptr);
        out["timings"] = {{"encode_ms", session.encoding(item.image).encode_ms},
                          {"generate_ms", reply.timings.total_ms},
                          {"prompt_tokens", reply.prompt_tokens},
                          {"reused_tokens", reply.reused_tokens},
                          {"generated_tokens", reply.tokens.size()}};
        return out;
    }

    ProtocolReport summarise(const EvalSession & session, const std::vector<StoredSample> & samples) const override {
        const EvalParams & params = session.params();
        ProtocolReport report;
        report.groups = summarise_dataset_groups(session, samples);
        // One configuration, so one group: the graded metrics join it.
        const std::map<long long, Records> per_seed = records_per_seed(samples);
        GroupSummary * group = report.groups.empty() || per_seed.empty() ? nullptr : &report.groups.front();
        if (group) {
            add_graded_metrics(*group, per_seed, params);
        }
        report.tables.push_back(topk_table(session, group));
        report.tables.push_back(top1_grade_table(session, group));
        if (group) {
            report.plots.push_back(topk_curve(session, *group));
        }
        return report;
    }
};

}  // namespace

std::unique_ptr<Protocol> make_skinflow_topk() { return std::make_unique<OpenTopK>(); }

}  // namespace dermlens::eval
