// Paper 001's classification protocols: the zero-shot VLM asked with SkinVL's prompt, every
// class of the dataset listed (table 5), and a logistic-regression probe on the vision
// encoder's features trained on every training image, C chosen by 5-fold cross-validation on
// ROC-AUC (table 4, "SFT classification").
#include "eval/protocol_factories.h"
#include "eval/protocol_support.h"

#include <fmt/format.h>

namespace dermlens::eval {
namespace {

using json = nlohmann::ordered_json;

// A table of paper 001's shape: the method down the rows, per dataset a column for each metric.
ReportTable method_table(const EvalSession & session, std::string title, std::string caption, const std::string & method,
                         const GroupSummary * group, const std::vector<std::pair<std::string, std::string>> & columns) {
    ReportTable table{std::move(title), std::move(caption), {"Methods"}, {{method}}};
    for (const auto & [column, metric] : columns) {
        table.header.push_back(fmt::format("{} {}", dataset_name(session), column));
        table.rows[0].push_back(percent_cell(group, metric));
    }
    return table;
}

class SkinVlZeroShot final : public Protocol {
public:
    std::string name() const override { return "skinvl-zeroshot"; }
    std::string description() const override {
        return "paper 001 table 5: zero-shot classification with SkinVL's prompt, every class listed; accuracy, "
               "macro precision and macro-F1";
    }

    std::vector<WorkItem> plan(const EvalSession & session) const override {
        return plan_per_image(session, with_seeds({{{"method", "zero-shot"}}}, session.params()));
    }

    // Paper 001 fig. 5's question, whatever --style says, and its generated answer matched to a class.
    json run(const WorkItem & item, EvalSession & session) const override {
        EvalParams skinvl = session.params();
        skinvl.style = pipeline::PromptStyle::SkinVl;
        skinvl.decide = pipeline::DecideMode::Generate;
        return rerank_record(session, item, rerank_params(skinvl, "direct", item.config["seed"]), nullptr);
    }

    ProtocolReport summarise(const EvalSession & session, const std::vector<StoredSample> & samples) const override {
        const EvalParams & params = session.params();
        ProtocolReport report;
        report.groups = summarise_dataset_groups(session, samples);
        const GroupSummary * zero_shot = find_group(report.groups, {{"method", "zero-shot"}});
        report.tables.push_back(method_table(
            session, "Table 5: zero-shot classification",
            fmt::format("Accuracy, macro precision and macro-F1 (%), mean (± std) over {} runs of the option order; "
                        "SkinVL's prompt listing all {} classes, its generated answer matched to one (none: wrong).",
                        params.seeds, session.dataset().classes.size()),
            params.vlm.model_path.filename().string(), zero_shot,
            {{"ACC", "accuracy"}, {"precision", "macro_precision"}, {"F1", "macro_f1"}, {"BACC", "balanced_accuracy"}}));
        if (zero_shot) {
            add_group_plots(report, *zero_shot, session.dataset().classes, "zero-shot", "zero-shot VLM, SkinVL prompt");
        }
        return report;
    }
};

class ProbeSft final : public Protocol {
public:
    std::string name() const override { return "probe-sft"; }
    std::string description() const override {
        return "paper 001 table 4: logistic regression on the vision encoder's features of every training image, C "
               "by 5-fold cross-validation on ROC-AUC; accuracy, macro recall, macro-F1 and ROC-AUC";
    }

    std::vector<WorkItem> plan(const EvalSession & session) const override {
        return plan_per_image(session, with_seeds({{{"method", "linear-probe"}}}, session.params()));
    }

    json run(const WorkItem & item, EvalSession & session) const override {
        const probe::Probe & probe = session.probe(0, item.config["seed"]);
        json out = probe_record(session, item, probe);
        // How C was chosen: cross-validation, or the validation split when a class is too small to fold.
        out["c"] = probe.hyperparameters.c;
        out["c_selection"] = probe::selection_name(probe.hyperparameters.selection);
        return out;
    }

    ProtocolReport summarise(const EvalSession & session, const std::vector<StoredSample> & samples) const override {
        const EvalParams & params = session.params();
        ProtocolReport report;
        report.groups = summarise_dataset_groups(session, samples);
        const GroupSummary * probe = find_group(report.groups, {{"method", "linear-probe"}});
        report.tables.push_back(method_table(
            session, "Table 4: SFT classification (linear probe on the vision encoder)",
            fmt::format("Accuracy, macro recall, macro-F1 and one-vs-rest macro ROC-AUC (%), mean (± std) over {} "
                        "runs; logistic regression on the encoder-mean features of the {} training images.",
                        params.seeds, session.dataset().rows_of_split("train").size()),
            params.vlm.mmproj_path.filename().string(), probe,
            {{"ACC", "accuracy"}, {"Recall", "macro_recall"}, {"F1", "macro_f1"}, {"ROC-AUC", "roc_auc"}}));
        if (probe) {
            add_group_plots(report, *probe, session.dataset().classes, "linear-probe", "linear probe");
        }
        add_conformal_table(report, session);
        return report;
    }
};

}  // namespace

std::unique_ptr<Protocol> make_skinvl_zeroshot() { return std::make_unique<SkinVlZeroShot>(); }
std::unique_ptr<Protocol> make_probe_sft() { return std::make_unique<ProbeSft>(); }

}  // namespace dermlens::eval
