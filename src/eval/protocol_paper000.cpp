// Paper 000's protocols: the strategy ablation (table 4), the shots study (table 10) and the
// gap between the zero-shot VLM and a linear probe on its own encoder (table 1).
#include "eval/protocol_factories.h"

#include "eval/plots.h"
#include "eval/protocol_support.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

namespace dermlens::eval {
namespace {

using json = nlohmann::ordered_json;

// Table 4's columns: the strategy and the paper's name for it.
const std::vector<std::pair<std::string, std::string>> kAblationStrategies{
    {"direct", "direct answer"},
    {"in-context", "in-context"},
    {"describe-then-decide", "describe-first"},
    {"topk", "top-5 to top-1"},
    {"combined", "all combined"}};

class Ablation final : public Protocol {
public:
    std::string name() const override { return "paper000-ablation"; }
    std::string description() const override {
        return "paper 000 table 4: top-1 accuracy of the five prompting strategies (the re-ranking ones on a "
               "probe's top-k with the run's shots per class), mean ± std over the run's seeds";
    }

    std::vector<WorkItem> plan(const EvalSession & session) const override {
        std::vector<json> configs;
        for (const auto & [strategy, title] : kAblationStrategies) {
            configs.push_back({{"strategy", strategy}});
        }
        return plan_per_image(session, with_seeds(configs, session.params()));
    }

    json run(const WorkItem & item, EvalSession & session) const override {
        return strategy_record(session, item, item.config["strategy"]);
    }

    ProtocolReport summarise(const EvalSession & session, const std::vector<StoredSample> & samples) const override {
        ProtocolReport report;
        report.groups = summarise_dataset_groups(session, samples);
        ReportTable table{"Table 4: ablation of the prompting strategies",
                          fmt::format("Top-1 accuracy (%), mean (± std) over {} runs; the re-ranking strategies on an "
                                      "{}-shot linear probe's top-{}.",
                                      session.params().seeds, session.params().shots, session.params().top_k),
                          {"Dataset"},
                          {{dataset_name(session)}}};
        for (const auto & [strategy, title] : kAblationStrategies) {
            table.header.push_back(title);
            table.rows[0].push_back(percent_cell(find_group(report.groups, {{"strategy", strategy}}), "accuracy"));
        }
        report.tables.push_back(std::move(table));

        ReportTable detail{"Every metric per strategy", "Mean (± std) over runs, in percent.", {"strategy"}, {}};
        for (const char * metric : {"accuracy", "macro_f1", "balanced_accuracy", "abstention_rate"}) {
            detail.header.push_back(metric);
        }
        for (const auto & [strategy, title] : kAblationStrategies) {
            const GroupSummary * group = find_group(report.groups, {{"strategy", strategy}});
            std::vector<std::string> row{title};
            for (std::size_t c = 1; c < detail.header.size(); ++c) {
                row.push_back(percent_cell(group, detail.header[c]));
            }
            detail.rows.push_back(std::move(row));
            if (group) {
                add_group_plots(report, *group, session.dataset().classes, strategy, title);  // names are file-safe
            }
        }
        report.tables.push_back(std::move(detail));
        return report;
    }
};

class Shots final : public Protocol {
public:
    std::string name() const override { return "paper000-shots"; }
    std::string description() const override {
        return "paper 000 table 10: k-shot linear probe top-1 / top-5 and the VLM re-ranking its top-5, for each k of "
               "the run's shot counts, against the zero-shot VLM";
    }

    std::vector<WorkItem> plan(const EvalSession & session) const override {
        std::vector<json> configs{{{"method", "zero-shot"}}};
        for (const std::size_t shots : session.params().shot_counts) {
            configs.push_back({{"method", "probe"}, {"shots", shots}});
            configs.push_back({{"method", "rerank"}, {"shots", shots}});
        }
        return plan_per_image(session, with_seeds(configs, session.params()));
    }

    json run(const WorkItem & item, EvalSession & session) const override {
        const std::string method = item.config["method"];
        const std::uint64_t seed = item.config["seed"];
        if (method == "zero-shot") {
            return rerank_record(session, item, rerank_params(session.params(), "direct", seed), nullptr);
        }
        const probe::Probe & probe = session.probe(item.config["shots"].get<std::size_t>(), seed);
        if (method == "probe") {
            return probe_record(session, item, probe);
        }
        return rerank_record(session, item, rerank_params(session.params(), "topk", seed), &probe);
    }

    ProtocolReport summarise(const EvalSession & session, const std::vector<StoredSample> & samples) const override {
        const EvalParams & params = session.params();
        ProtocolReport report;
        report.groups = summarise_dataset_groups(session, samples);
        const std::string top_k = fmt::format("top_{}_accuracy", params.top_k);
        const GroupSummary * zero_shot = find_group(report.groups, {{"method", "zero-shot"}});
        ReportTable table{"Table 10: the top-5 to top-1 re-ranking per number of shots",
                          fmt::format("Accuracy (%), mean (± std) over {} runs. LP: the k-shot linear probe; VLM: the "
                                      "model re-ranking the probe's top-{}.",
                                      params.seeds, params.top_k),
                          {"Dataset", "0-shot Top-1"},
                          {{dataset_name(session), percent_cell(zero_shot, "accuracy")}}};
        std::vector<std::string> ticks;
        CurveSeries lp_top1{"LP top-1", {}, {}}, lp_topk{fmt::format("LP top-{}", params.top_k), {}, {}};
        CurveSeries rerank{fmt::format("VLM on LP top-{}", params.top_k), {}, {}}, zero{"0-shot VLM", {}, {}};
        const auto add_point = [](CurveSeries & series, const GroupSummary * group, const std::string & metric) {
            const MetricValue * value = group ? group->metric(metric) : nullptr;
            series.mean.push_back(value ? value->mean : std::nan(""));
            series.std.push_back(value ? value->std : 0.0);
        };
        for (const std::size_t shots : params.shot_counts) {
            const GroupSummary * probe = find_group(report.groups, {{"method", "probe"}, {"shots", shots}});
            const GroupSummary * reranked = find_group(report.groups, {{"method", "rerank"}, {"shots", shots}});
            for (const auto & [column, group, metric] :
                 {std::tuple{"Top1", probe, std::string("accuracy")}, std::tuple{"Top5", probe, top_k},
                  std::tuple{"VLM", reranked, std::string("accuracy")}}) {
                table.header.push_back(fmt::format("{}-shot {}", shots, column));
                table.rows[0].push_back(percent_cell(group, metric));
            }
            ticks.push_back(std::to_string(shots));
            add_point(lp_top1, probe, "accuracy");
            add_point(lp_topk, probe, top_k);
            add_point(rerank, reranked, "accuracy");
            add_point(zero, zero_shot, "accuracy");
        }
        report.tables.push_back(std::move(table));
        // A series with a point that was not computed (no sample of that configuration yet) is left out.
        std::vector<CurveSeries> complete;
        for (const CurveSeries & series : {lp_top1, lp_topk, rerank, zero}) {
            if (std::all_of(series.mean.begin(), series.mean.end(), [](double v) { return std::isfinite(v); })) {
                complete.push_back(series);
            }
        }
        if (!complete.empty()) {
            report.plots.push_back({"shots_curve.png", "Accuracy per number of shots",
                                    curve_plot(ticks, complete, "accuracy",
                                               fmt::format("{}: accuracy per shots", dataset_name(session)))});
        }
        const std::size_t largest = params.shot_counts.back();
        if (const GroupSummary * group = find_group(report.groups, {{"method", "rerank"}, {"shots", largest}})) {
            add_group_plots(report, *group, session.dataset().classes, fmt::format("rerank_{}shot", largest),
                            fmt::format("VLM on the {}-shot probe's top-{}", largest, params.top_k));
        }
        add_conformal_table(report, session);
        return report;
    }
};

class Gap final : public Protocol {
public:
    std::string name() const override { return "paper000-gap"; }
    std::string description() const override {
        return "paper 000 table 1: the zero-shot VLM against a linear probe on its own vision encoder trained on "
               "every training image, accuracy and macro-F1";
    }

    std::vector<WorkItem> plan(const EvalSession & session) const override {
        return plan_per_image(session,
                              with_seeds({{{"method", "zero-shot"}}, {{"method", "linear-probe"}}}, session.params()));
    }

    json run(const WorkItem & item, EvalSession & session) const override {
        const std::uint64_t seed = item.config["seed"];
        if (item.config["method"] == "zero-shot") {
            return rerank_record(session, item, rerank_params(session.params(), "direct", seed), nullptr);
        }
        return probe_record(session, item, session.probe(0, seed));
    }

    ProtocolReport summarise(const EvalSession & session, const std::vector<StoredSample> & samples) const override {
        const EvalParams & params = session.params();
        ProtocolReport report;
        report.groups = summarise_dataset_groups(session, samples);
        const GroupSummary * zero_shot = find_group(report.groups, {{"method", "zero-shot"}});
        const GroupSummary * probe = find_group(report.groups, {{"method", "linear-probe"}});
        const EvalDataset & dataset = session.dataset();
        report.tables.push_back(
            {"Table 1: zero-shot VLM against a linear probe on its vision encoder",
             fmt::format("Accuracy and macro-F1 (%), mean (± std) over {} runs; #Train: the probe's training "
                         "images, #Test: the images evaluated.",
                         params.seeds),
             {"Dataset", "#Class", "#Train", "#Test", "Zero-shot ACC", "Zero-shot F1", "Linear probe ACC",
              "Linear probe F1"},
             {{dataset_name(session), std::to_string(dataset.classes.size()),
               std::to_string(dataset.rows_of_split("train").size()), std::to_string(evaluated_images(samples)),
               percent_cell(zero_shot, "accuracy"), percent_cell(zero_shot, "macro_f1"), percent_cell(probe, "accuracy"),
               percent_cell(probe, "macro_f1")}}});
        if (zero_shot) {
            add_group_plots(report, *zero_shot, dataset.classes, "zero-shot", "zero-shot VLM");
        }
        if (probe) {
            add_group_plots(report, *probe, dataset.classes, "linear-probe", "linear probe");
        }
        add_conformal_table(report, session);
        return report;
    }
};

}  // namespace

std::unique_ptr<Protocol> make_paper000_ablation() { return std::make_unique<Ablation>(); }
std::unique_ptr<Protocol> make_paper000_shots() { return std::make_unique<Shots>(); }
std::unique_ptr<Protocol> make_paper000_gap() { return std::make_unique<Gap>(); }

}  // namespace dermlens::eval
