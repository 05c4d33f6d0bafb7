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
             return fmt::format("conformal coverage, {}{} alpha {} (%)",
                                probe::conformal_score_name(e.conformal->params),
                                e.conformal->per_class ? " per class," : "", e.conformal->alpha);
         },
         [](const auto & e) { return e.conformal->coverage; }, true},
        {"mean_set_size", [](const auto &) { return std::string("mean conformal set size"); },
         [](const auto & e) { return e.conformal->mean_set_size; }, true},
        {"median_set_size", [](const auto &) { return std::string("median conformal set size"); },
         [](const auto & e) { return e.conformal->overall.median_size; }, true},
        {"empty_set_share", [](const auto &) { return std::string("empty conformal sets (%)"); },
         [](const auto & e) { return e.conformal->overall.empty_share; }, true},
        {"singleton_share", [](const auto &) { return std::string("one-class conformal sets (%)"); },
         [](const auto & e) { return e.conformal->overall.singleton_share; }, true},
    };
    return list;
}

std::string shown(const Metric & metric, double value) {
    const std::string key = metric.key;
    return key == "mean_set_size" || key == "median_set_size" ? fmt::format("{:.2f}", value) : percent(value);
}

ordered_json set_statistics_json(const metrics::SetStatistics & s) {
    return {{"rows", s.rows},
            {"coverage", number_or_null(s.coverage)},
            {"mean_set_size", number_or_null(s.mean_size)},
            {"median_set_size", number_or_null(s.median_size)},
            {"empty_share", number_or_null(s.empty_share)},
            {"singleton_share", number_or_null(s.singleton_share)}};
}

// Per class and per set size: the lines under the overall conformal metrics.
void print_conformal_detail(const probe::ConformalEvaluation & c, const std::vector<std::string> & classes) {
    fmt::print("  guarantee: {}\n", c.guarantee);
    fmt::print("  per class:  {:<24} {:>6} {:>9} {:>6} {:>7}\n", "class", "rows", "coverage", "mean", "median");
    for (std::size_t k = 0; k < c.per_class_sets.size(); ++k) {
        const auto & s = c.per_class_sets[k];
        fmt::print("              {:<24} {:>6} {:>9} {:>6.2f} {:>7.1f}\n", classes[k], s.rows, percent(s.coverage),
                   s.mean_size, s.median_size);
    }
    fmt::print("  per set size:  {:>4} {:>6} {:>9}\n", "size", "rows", "coverage");
    for (const auto & s : c.by_size) {
        fmt::print("                 {:>4} {:>6} {:>9}\n", s.size, s.rows, percent(s.coverage));
    }
}

}  // namespace

probe::ConformalOptions ConformalChoice::options() const {
    probe::ConformalOptions out;
    out.params = probe::parse_conformal_score(score.value_or(probe::conformal_score_name(probe::ConformalParams{})));
    out.per_class = per_class;
    out.lambda = lambda;
    out.k_reg = k_reg;
    out.validate();
    return out;
}

void ConformalChoice::apply(probe::Probe & probe, const std::string & probe_name) const {
    if (score || per_class || lambda || k_reg) {
        probe::recalibrate_probe(probe, probe_name, score, per_class, lambda, k_reg);
    }
}

void add_conformal_options(CLI::App & app, ConformalChoice & choice, bool training) {
    const std::string when = training ? " (default: lac)" : " (default: the probe's; another recalibrates on its "
                                                             "calibration rows)";
    app.add_option("--score", choice.score,
                   "Conformal score: lac (smallest sets), aps (randomised adaptive sets), raps (regularised aps), "
                   "aps-plain (non-randomised aps, sets larger than needed)" + when);
    app.add_flag("--per-class", choice.per_class,
                 "Class-conditional (Mondrian) calibration: coverage >= 1 - alpha for every class; a class needs "
                 "ceil(1/alpha) - 1 calibration rows");
    app.add_option("--raps-lambda", choice.lambda,
                   "raps: penalty per class beyond --raps-k-reg (default: chosen on 30% of the calibration rows)");
    app.add_option("--raps-k-reg", choice.k_reg,
                   "raps: classes ranked up to this are not penalised (default: chosen on 30% of the calibration rows)");
}

void warn_undercalibrated(const probe::Probe & probe, double alpha) {
    const std::string warning = probe::undercalibrated_warning(probe, alpha);
    if (!warning.empty()) {
        fmt::print(stderr, "dermlens: warning: {}\n", warning);
    }
}

void add_set_options(CLI::App & app, probe::SetParams & set) {
    app.add_option("--alpha", set.alpha,
                   "Miscoverage of conformal sets: the true class is in the set with probability >= 1 - alpha "
                   "(default: the probe's calibrated alpha)");
    app.add_option("--min-set", set.min_size, "Smallest conformal set (classes)")->capture_default_str();
    app.add_option("--max-set", set.max_size, "Largest conformal set; 0 = no limit (a limit can break coverage)")
        ->capture_default_str();
}

ordered_json evaluation_json(const probe::Evaluation & e, const std::vector<std::string> & classes) {
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
        ordered_json per_class = ordered_json::object();
        for (std::size_t k = 0; k < c.per_class_sets.size(); ++k) {
            per_class[classes[k]] = set_statistics_json(c.per_class_sets[k]);
            per_class[classes[k]]["threshold"] = std::isinf(c.thresholds[k]) ? ordered_json(nullptr)
                                                                              : ordered_json(c.thresholds[k]);
        }
        ordered_json by_size = ordered_json::array();
        for (const auto & s : c.by_size) {
            by_size.push_back({{"size", s.size}, {"rows", s.rows}, {"coverage", s.coverage}});
        }
        out["conformal"] = {{"score", probe::conformal_score_name(c.params)},
                            {"per_class", c.per_class},
                            {"guarantee", c.guarantee},
                            {"lambda", c.params.lambda},
                            {"k_reg", c.params.k_reg},
                            {"alpha", c.alpha},
                            {"q_hat", c.q_hat},
                            {"min_set", c.min_size},
                            {"max_set", c.max_size},
                            {"coverage", c.coverage},
                            {"mean_set_size", c.mean_set_size},
                            {"median_set_size", c.overall.median_size},
                            {"empty_share", c.overall.empty_share},
                            {"singleton_share", c.overall.singleton_share},
                            {"per_class_sets", std::move(per_class)},
                            {"by_set_size", std::move(by_size)}};
    }
    return out;
}

ordered_json mean_std_json(const metrics::MeanStd & value) {
    return {{"mean", number_or_null(value.mean)}, {"std", number_or_null(value.std)}};
}

void print_evaluation(const probe::Evaluation & evaluation, const std::vector<std::string> & classes) {
    for (const auto & metric : metrics()) {
        if (!metric.conformal || evaluation.conformal) {
            fmt::print("  {:<40} {}\n", metric.label(evaluation), shown(metric, metric.value(evaluation)));
        }
    }
    if (!evaluation.conformal) {
        fmt::print("  (no conformal sets: the probe has no calibration)\n");
    } else if (!classes.empty()) {
        print_conformal_detail(*evaluation.conformal, classes);
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
