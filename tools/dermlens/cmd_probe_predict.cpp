// dermlens probe predict --probe P (--features F | --manifest M --mmproj P [--cache DB] [--kind K])
//   [--top-k 5] [--candidates topk|conformal] [--alpha A] [--score S] [--per-class]
//   [--min-set 1] [--max-set 0] [--label-set NAME] [--json]
// Class probabilities, the top k and the candidate list for the VLM, per image.
#include "probe_options.h"

#include "dermlens/error.h"
#include "probe/probe.h"
#include "vision/feature_table.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

namespace dermlens::cli {
namespace {

using nlohmann::ordered_json;

struct ProbePredictOptions {
    std::string probe;
    FeatureSource source;
    std::string candidates = "topk";
    std::size_t top_k = 5;
    probe::SetParams set;
    ConformalChoice conformal;
    std::string label_set;
    bool json = false;

    probe::CandidateParams candidate_params() const {
        probe::CandidateParams params;
        params.mode = probe::parse_candidate_mode(candidates);
        params.top_k = top_k;
        params.set = set;
        params.validate();
        return params;
    }
};

int run_predict(const ProbePredictOptions & options) {
    const probe::CandidateParams params = options.candidate_params();
    probe::Probe probe = probe::load_probe(options.probe);
    if (!options.label_set.empty()) {
        probe::check_label_set(probe, options.probe, options.label_set);
    }
    if (params.mode == probe::CandidateMode::Conformal && !probe.calibration) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("probe '{}' has no conformal calibration (it was trained without calib rows): use "
                                "--candidates topk",
                                options.probe));
    }
    if (params.mode == probe::CandidateMode::Conformal) {
        options.conformal.apply(probe, options.probe);
        warn_undercalibrated(probe, params.set.alpha.value_or(probe.calibration->alpha));
    }
    const vision::FeatureTable table = options.source.load();
    probe::check_compatible(probe, options.probe, table, options.source.name());
    const Eigen::MatrixXd probabilities = probe.probabilities(table.feature_rows());
    const auto candidates = probe::candidate_sets(probe, probabilities, params);
    probe::CandidateParams top;
    top.top_k = options.top_k;
    const auto ranked = probe::candidate_sets(probe, probabilities, top);

    ordered_json settings = {{"mode", probe::candidate_mode_name(params.mode)}};
    if (params.mode == probe::CandidateMode::TopK) {
        settings["top_k"] = params.top_k;
    } else {
        const double alpha = params.set.alpha.value_or(probe.calibration->alpha);
        settings["score"] = probe::conformal_score_name(probe.calibration->params);
        settings["per_class"] = probe.calibration->per_class;
        settings["guarantee"] = probe::set_guarantee(*probe.calibration, alpha);
        settings["alpha"] = alpha;
        settings["q_hat"] = probe.calibration->q_hat(alpha);
        settings["min_set"] = params.set.min_size;
        settings["max_set"] = params.set.max_size;
    }
    if (options.json) {
        ordered_json rows = ordered_json::array();
        for (std::size_t i = 0; i < table.size(); ++i) {
            const auto row = static_cast<Eigen::Index>(i);
            ordered_json all = ordered_json::object();
            for (std::size_t c = 0; c < probe.classes.size(); ++c) {
                all[probe.classes[c]] = probabilities(row, static_cast<Eigen::Index>(c));
            }
            ordered_json top_list = ordered_json::array();
            for (const std::size_t c : ranked[i]) {
                top_list.push_back({{"label", probe.classes[c]},
                                    {"probability", probabilities(row, static_cast<Eigen::Index>(c))}});
            }
            ordered_json chosen = ordered_json::array();
            for (const std::size_t c : candidates[i]) {
                chosen.push_back(probe.classes[c]);
            }
            rows.push_back({{"image", table.images[i]},
                            {"label", table.labels[i].empty() ? ordered_json(nullptr) : ordered_json(table.labels[i])},
                            {"top", top_list},
                            {"candidates", chosen},
                            {"probabilities", all}});
        }
        fmt::print("{}\n", ordered_json({{"probe", options.probe},
                                         {options.source.report_key(), options.source.name()},
                                         {"candidates", settings},
                                         {"predictions", rows}})
                               .dump(2));
        return 0;
    }
    if (params.mode == probe::CandidateMode::TopK) {
        fmt::print("candidates: the top {}\n", params.top_k);
    } else {
        fmt::print("candidates: conformal {} set, alpha {} (q_hat {:.6g}), {} to {} classes\n  guarantee: {}\n",
                   settings["score"].get<std::string>(), settings["alpha"].get<double>(),
                   settings["q_hat"].get<double>(), params.set.min_size,
                   params.set.max_size == 0 ? std::string("any number of") : std::to_string(params.set.max_size),
                   settings["guarantee"].get<std::string>());
    }
    for (std::size_t i = 0; i < table.size(); ++i) {
        std::vector<std::string> top_text;
        for (const std::size_t c : ranked[i]) {
            top_text.push_back(fmt::format("{} {:.3f}", probe.classes[c],
                                           probabilities(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c))));
        }
        std::vector<std::string> chosen;
        for (const std::size_t c : candidates[i]) {
            chosen.push_back(probe.classes[c]);
        }
        fmt::print("{}\n  top {}: {}\n  candidates: {}\n", table.images[i], ranked[i].size(), fmt::join(top_text, ", "),
                   fmt::join(chosen, ", "));
    }
    return 0;
}

}  // namespace

void register_probe_predict(CLI::App & probe, std::vector<Command> & commands) {
    auto options = std::make_shared<ProbePredictOptions>();
    auto * app = probe.add_subcommand("predict", "Class probabilities, top k and the candidate list per image");
    app->add_option("--probe", options->probe, "Probe file from `dermlens probe train --out`")->required();
    add_feature_source_options(*app, options->source, "Feature file (CSV or .npy + sidecar); labels may be empty");
    app->add_option("--top-k", options->top_k, "How many of the most likely classes to list (and topk candidates)")
        ->capture_default_str();
    app->add_option("--candidates", options->candidates,
                    "Candidate list: topk (the k most likely) or conformal (the calibrated set)")
        ->capture_default_str();
    add_set_options(*app, options->set);
    add_conformal_options(*app, options->conformal, false);
    app->add_option("--label-set", options->label_set, "Refuse a probe of another knowledge-base label set");
    app->add_flag("--json", options->json, "Print JSON (docs/probes.md)");
    commands.push_back({app, [options] { return run_predict(*options); }});
}

}  // namespace dermlens::cli
