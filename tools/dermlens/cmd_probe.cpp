// dermlens probe train | predict | eval
// Few-shot probes on vision features and their candidate sets (docs/probes.md).
#include "probe_options.h"

#include "common/atomic_file.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>

namespace dermlens::cli {
namespace {

using nlohmann::ordered_json;

ordered_json number_or_null(double value) {
    return std::isnan(value) ? ordered_json(nullptr) : ordered_json(value);
}

std::string percent(double value) {
    return std::isnan(value) ? "n/a" : fmt::format("{:.2f}", 100.0 * value);
}

// One metric of an evaluation, with its label for text and its key for JSON.
struct Metric {
    const char * key;
    std::function<std::string(const probe::Evaluation &)> label;
    std::function<double(const probe::Evaluation &)> value;
    bool conformal;
};

const std::vector<Metric> & metrics() {
    static const std::vector<Metric> list = {
        {"accuracy", [](const auto &) { return std::string("accuracy (%)"); },
         [](const auto & e) { return e.accuracy; }, false},
        {"macro_f1", [](const auto &) { return std::string("macro-F1 (%)"); },
         [](const auto & e) { return e.macro_f1; }, false},
        {"balanced_accuracy", [](const auto &) { return std::string("balanced accuracy (%)"); },
         [](const auto & e) { return e.balanced_accuracy; }, false},
        {"top_k_accuracy", [](const auto & e) { return fmt::format("top-{} accuracy (%)", e.top_k); },
         [](const auto & e) { return e.top_k_accuracy; }, false},
        {"roc_auc", [](const auto &) { return std::string("ROC-AUC, macro one-vs-rest (%)"); },
         [](const auto & e) { return e.roc_auc; }, false},
        {"coverage",
         [](const auto & e) {
             return fmt::format("conformal coverage, {} alpha {} (%)",
                                probe::conformal_score_name(e.conformal->params.score), e.conformal->alpha);
         },
         [](const auto & e) { return e.conformal->coverage; }, true},
        {"mean_set_size", [](const auto &) { return std::string("mean conformal set size"); },
         [](const auto & e) { return e.conformal->mean_set_size; }, true},
    };
    return list;
}

std::string shown(const Metric & metric, double value) {
    return std::string(metric.key) == "mean_set_size" ? fmt::format("{:.2f}", value) : percent(value);
}

}  // namespace

void add_set_options(CLI::App & app, probe::SetParams & set) {
    app.add_option("--alpha", set.alpha,
                   "Miscoverage of conformal sets: the true class is in the set with probability >= 1 - alpha "
                   "(default: the probe's calibrated alpha)");
    app.add_option("--min-set", set.min_size, "Smallest conformal set (classes)")->capture_default_str();
    app.add_option("--max-set", set.max_size, "Largest conformal set; 0 = no limit (a limit can break coverage)")
        ->capture_default_str();
}

ordered_json evaluation_json(const probe::Evaluation & e) {
    ordered_json out = {{"rows", e.rows},
                        {"accuracy", e.accuracy},
                        {"macro_f1", e.macro_f1},
                        {"balanced_accuracy", e.balanced_accuracy},
                        {"top_k", e.top_k},
                        {"top_k_accuracy", e.top_k_accuracy},
                        {"roc_auc", number_or_null(e.roc_auc)},
                        {"conformal", nullptr}};
    if (e.conformal) {
        const auto & c = *e.conformal;
        out["conformal"] = {{"score", probe::conformal_score_name(c.params.score)},
                            {"lambda", c.params.lambda},
                            {"k_reg", c.params.k_reg},
                            {"alpha", c.alpha},
                            {"q_hat", c.q_hat},
                            {"min_set", c.min_size},
                            {"max_set", c.max_size},
                            {"coverage", c.coverage},
                            {"mean_set_size", c.mean_set_size}};
    }
    return out;
}

ordered_json mean_std_json(const metrics::MeanStd & value) {
    return {{"mean", number_or_null(value.mean)}, {"std", number_or_null(value.std)}};
}

void print_evaluation(const probe::Evaluation & evaluation) {
    for (const auto & metric : metrics()) {
        if (!metric.conformal || evaluation.conformal) {
            fmt::print("  {:<40} {}\n", metric.label(evaluation), shown(metric, metric.value(evaluation)));
        }
    }
    if (!evaluation.conformal) {
        fmt::print("  (no conformal sets: the probe has no calibration)\n");
    }
}

void print_evaluation_summary(const std::vector<probe::Evaluation> & evaluations) {
    for (const auto & metric : metrics()) {
        if (metric.conformal && !evaluations.front().conformal) {
            continue;
        }
        std::vector<double> values;
        for (const auto & e : evaluations) {
            values.push_back(metric.value(e));
        }
        const metrics::MeanStd summary = metrics::mean_std(values);
        fmt::print("  {:<40} {} ± {}\n", metric.label(evaluations.front()), shown(metric, summary.mean),
                   shown(metric, summary.std));
    }
}

ordered_json evaluation_summary_json(const std::vector<probe::Evaluation> & evaluations) {
    ordered_json out = {{"seeds", evaluations.size()}, {"rows", evaluations.front().rows},
                        {"top_k", evaluations.front().top_k}};
    for (const auto & metric : metrics()) {
        if (metric.conformal && !evaluations.front().conformal) {
            out[metric.key] = nullptr;
            continue;
        }
        std::vector<double> values;
        for (const auto & e : evaluations) {
            values.push_back(metric.value(e));
        }
        out[metric.key] = mean_std_json(metrics::mean_std(values));
    }
    return out;
}

void write_report(const std::string & path, const ordered_json & value) {
    write_file_atomically(path, value.dump(2) + '\n', "--report");
}

void register_probe(CLI::App & root, std::vector<Command> & commands) {
    auto * probe = root.add_subcommand("probe", "Few-shot probes on vision features: train, predict candidates, "
                                                "evaluate (docs/probes.md)");
    probe->require_subcommand(1);
    register_probe_train(*probe, commands);
    register_probe_predict(*probe, commands);
    register_probe_eval(*probe, commands);
}

}  // namespace dermlens::cli
