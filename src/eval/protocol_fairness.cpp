// Paper 004's fairness audit (SkinGPT-4 across Fitzpatrick skin types): one pipeline
// strategy's predictions grouped by the manifest's demographic columns — Fitzpatrick skin
// type, sex, age band — with every metric per group, the worst-group accuracy gap and the
// demographic parity difference of predicting a malignant class. With a strategy that
// re-ranks a calibrated probe's candidates, also the probe's conformal sets per group: the
// marginal set (calibrated on every calib image: 1 - alpha on average over groups) and the
// group-conditional one (q_hat from the calib images of the image's own group,
// probe::group_quantiles: 1 - alpha within every group — "equalized coverage").
#include "eval/protocol_factories.h"
#include "eval/protocol_support.h"

#include "dermlens/error.h"
#include "eval/plots.h"
#include "probe/calibration.h"
#include "probe/candidates.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <tuple>

namespace dermlens::eval {
namespace {

using json = nlohmann::ordered_json;

// A demographic attribute a manifest may carry, under one of several column names.
struct Attribute {
    std::string key;                   // in records, configurations and file names
    std::string title;                 // in the tables
    std::vector<std::string> columns;  // the first one present is read: our importers' name first
};

const std::array<Attribute, 3> kAttributes{{
    {"skin_type", "Fitzpatrick skin type", {"skin_type", "fitzpatrick", "fitzpatrick_scale"}},
    {"sex", "sex", {"sex", "gender"}},
    {"age", "age band", {"age", "age_approx"}},
}};

// Upper bounds (exclusive) of the age bands but the last; the names sort in band order.
const std::array<std::pair<double, const char *>, 4> kAgeBands{{{30, "0-29"}, {45, "30-44"}, {60, "45-59"}, {75, "60-74"}}};
const char * const kOldestBand = "75+";

// An attribute of the manifest and the column it is read from.
struct Grouping {
    const Attribute * attribute;
    std::string column;
};

std::vector<Grouping> groupings_of(const EvalDataset & dataset) {
    std::vector<Grouping> out;
    const auto & columns = dataset.images.front().metadata;  // every row has the manifest's columns
    for (const Attribute & attribute : kAttributes) {
        const auto found = std::find_if(attribute.columns.begin(), attribute.columns.end(),
                                        [&](const std::string & column) { return columns.contains(column); });
        if (found != attribute.columns.end()) {
            out.push_back({&attribute, *found});
        }
    }
    return out;
}

std::string age_band(const std::string & text) {
    double age = 0;
    const char * end = text.data() + text.size();
    const auto [at, ec] = std::from_chars(text.data(), end, age);
    if (ec != std::errc() || at != end || age < 0) {
        return "";
    }
    for (const auto & [below, band] : kAgeBands) {
        if (age < below) {
            return band;
        }
    }
    return kOldestBand;
}

// The group a manifest value puts an image in; "" leaves the image out of the attribute: a
// blank value, "unknown", "nan", "-1" (Fitzpatrick17k's unknown type) or an age that is no number.
std::string group_of(const Attribute & attribute, std::string value) {
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    std::string lower = value;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.empty() || lower == "unknown" || lower == "nan" || lower == "-1") {
        return "";
    }
    return attribute.key == "age" ? age_band(value) : value;
}

bool predicted_malignant(const json & record, const std::vector<std::string> & conditions, const kb::KnowledgeBase & kb) {
    const json & predicted = record["predicted"];
    return !predicted.is_null() && kb.malignancy(conditions.at(predicted.get<std::size_t>())) == kb::Malignancy::Malignant;
}

bool predicted_right(const json & record) {
    return !record["predicted"].is_null() && record["predicted"] == record["truth"];
}

// Per seed, the mean of a value over the scored samples.
std::map<long long, double> mean_per_seed(const std::vector<StoredSample> & samples,
                                          const std::function<double(const json &)> & value) {
    std::map<long long, std::pair<double, std::size_t>> sums;  // seed -> (sum, scored)
    for (const StoredSample & sample : samples) {
        if (!sample.error) {
            auto & [sum, scored] = sums[sample.record["config"].value("seed", 0LL)];
            sum += value(sample.record);
            ++scored;
        }
    }
    std::map<long long, double> out;
    for (const auto & [seed, sum] : sums) {
        out[seed] = sum.first / static_cast<double>(sum.second);
    }
    return out;
}

// Per seed, the share of the scored samples a predicate holds for.
std::map<long long, double> share_per_seed(const std::vector<StoredSample> & samples,
                                           const std::function<bool(const json &)> & holds) {
    return mean_per_seed(samples, [&](const json & record) { return holds(record) ? 1.0 : 0.0; });
}

// The image's group-conditional set of an attribute, when the record has one.
const json * group_set(const json & record, const std::string & attribute) {
    if (!record.contains("group_sets") || !record["group_sets"].contains(attribute) ||
        record["group_sets"][attribute].is_null()) {
        return nullptr;
    }
    return &record["group_sets"][attribute];
}

// One group of an attribute and its samples, their configuration tagged with both.
struct GroupSamples {
    const Attribute * attribute;
    std::string group;
    std::vector<StoredSample> samples;
};

// Per attribute, its groups in name order; a sample without a group for it (unknown, or failed) is left out.
std::vector<GroupSamples> split_by_group(const std::vector<StoredSample> & samples, const std::vector<Grouping> & groupings) {
    std::vector<GroupSamples> out;
    for (const Grouping & grouping : groupings) {
        std::map<std::string, std::vector<StoredSample>> by_group;
        for (const StoredSample & sample : samples) {
            const json group = sample.record.value("groups", json::object()).value(grouping.attribute->key, json());
            if (!group.is_string()) {
                continue;
            }
            StoredSample tagged = sample;
            tagged.record["config"]["attribute"] = grouping.attribute->key;
            tagged.record["config"]["group"] = group;
            by_group[group.get<std::string>()].push_back(std::move(tagged));
        }
        for (auto & [group, members] : by_group) {
            out.push_back({grouping.attribute, group, std::move(members)});
        }
    }
    return out;
}

// Per seed, the largest difference between the groups' shares; seeds with fewer than two groups left out.
std::vector<double> spread_per_seed(const std::vector<const GroupSamples *> & groups,
                                    const std::function<bool(const json &)> & holds) {
    std::map<long long, std::vector<double>> shares;
    for (const GroupSamples * group : groups) {
        for (const auto & [seed, share] : share_per_seed(group->samples, holds)) {
            shares[seed].push_back(share);
        }
    }
    std::vector<double> out;
    for (const auto & [seed, values] : shares) {
        if (values.size() >= 2) {
            const auto [low, high] = std::minmax_element(values.begin(), values.end());
            out.push_back(*high - *low);
        }
    }
    return out;
}

MetricValue over_seeds(std::string name, const std::vector<double> & per_seed) {
    const metrics::MeanStd spread = metrics::mean_std(per_seed);
    return {std::move(name), spread.mean, spread.std, std::nullopt};
}

std::vector<double> values_of(const std::map<long long, double> & per_seed) {
    std::vector<double> out;
    for (const auto & [seed, value] : per_seed) {
        out.push_back(value);
    }
    return out;
}

class Fairness final : public Protocol {
public:
    std::string name() const override { return "fairness"; }
    std::string description() const override {
        return "paper 004: the prediction of the run's strategy per Fitzpatrick skin type, sex and age band; every metric per "
               "group, the worst-group accuracy gap and the demographic parity difference of malignant predictions";
    }

    // Refuses a manifest without any demographic column: there would be nothing to compare.
    std::vector<WorkItem> plan(const EvalSession & session) const override {
        if (groupings_of(session.dataset()).empty()) {
            std::vector<std::string> looked_for;
            for (const Attribute & attribute : kAttributes) {
                looked_for.insert(looked_for.end(), attribute.columns.begin(), attribute.columns.end());
            }
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("manifest '{}' has no demographic column to group by: looked for {}",
                                    session.params().manifest.string(), fmt::join(looked_for, ", ")));
        }
        return plan_per_image(session, with_seeds({{{"strategy", session.params().strategy}}}, session.params()));
    }

    // The pipeline's record and the image's group per attribute (null when unknown).
    json run(const WorkItem & item, EvalSession & session) const override {
        json out = strategy_record(session, item, item.config["strategy"]);
        const EvalImage & image = session.dataset().images[item.image];
        json groups = json::object();
        for (const Grouping & grouping : groupings_of(session.dataset())) {
            const std::string group = group_of(*grouping.attribute, image.metadata.at(grouping.column));
            groups[grouping.attribute->key] = group.empty() ? json(nullptr) : json(group);
        }
        add_conformal_sets(out, item, session);
        out["groups"] = std::move(groups);
        return out;
    }

    ProtocolReport summarise(const EvalSession & session, const std::vector<StoredSample> & samples) const override {
        const EvalParams & params = session.params();
        const SummaryOptions options = summary_options(params);
        const auto classes = [&](const json &) { return dataset_classes(session); };
        const std::vector<std::string> conditions = class_conditions(session);
        const auto malignant = [&](const json & record) { return predicted_malignant(record, conditions, session.kb()); };
        const std::vector<Grouping> groupings = groupings_of(session.dataset());
        const std::vector<GroupSamples> groups = split_by_group(samples, groupings);

        ProtocolReport report;
        report.groups = summarise_groups(samples, classes, options);  // everyone
        if (!report.groups.empty()) {
            report.groups.front().metrics.push_back(
                over_seeds("malignant_prediction_rate", values_of(share_per_seed(samples, malignant))));
        }
        for (const GroupSamples & group : groups) {
            GroupSummary summary = summarise_groups(group.samples, classes, options).front();
            summary.metrics.push_back(
                over_seeds("malignant_prediction_rate", values_of(share_per_seed(group.samples, malignant))));
            add_group_set_metrics(summary, group);
            report.groups.push_back(std::move(summary));
        }
        std::vector<GroupSummary> gaps;  // per attribute, as groupings
        for (const Grouping & grouping : groupings) {
            gaps.push_back(attribute_summary(grouping, groups, params, malignant));
        }
        report.tables.push_back(group_table(samples, groups, report.groups, params));
        report.tables.push_back(gap_table(groupings, groups, gaps, params));
        if (!report.groups.empty() && report.groups.front().metric("set_coverage")) {
            report.tables.push_back(set_table(groups, report.groups, params));
        }
        for (const Grouping & grouping : groupings) {
            add_bar_plot(report, session, *grouping.attribute, groups);
        }
        report.groups.insert(report.groups.end(), gaps.begin(), gaps.end());
        return report;
    }

private:
    // Probe strategies with a calibrated probe: the image's marginal conformal set ("set") and,
    // per attribute, its group-conditional set ("group_sets"; null for an image of unknown group).
    void add_conformal_sets(json & out, const WorkItem & item, EvalSession & session) const {
        if (!pipeline::strategy_parts(pipeline::parse_strategy(item.config["strategy"].get<std::string>())).probe_candidates) {
            return;
        }
        const std::uint64_t seed = item.config["seed"];
        const probe::Probe & probe = session.probe(session.params().shots, seed);
        if (!probe.calibration) {
            return;
        }
        const probe::Calibration & calibration = *probe.calibration;
        const EvalImage & image = session.dataset().images[item.image];
        const std::vector<double> p = session.probe_probabilities(probe, item.image);
        const Eigen::Map<const Eigen::RowVectorXd> row(p.data(), static_cast<Eigen::Index>(p.size()));
        // The draw of candidate_sets for this image (row 0 of a call with the image's seed), for both sets.
        const std::uint64_t draw_seed = per_image_seed(image.image, seed);
        const double u = probe::uniform_draw(probe::test_draw_stream(calibration.seed, draw_seed), 0);
        probe::CandidateParams marginal;
        marginal.mode = probe::CandidateMode::Conformal;
        marginal.set.draw_seed = draw_seed;
        out["set"] = probe::candidate_sets(probe, row, marginal).front();
        json sets = json::object();
        for (const Grouping & grouping : groupings_of(session.dataset())) {
            const std::string group = group_of(*grouping.attribute, image.metadata.at(grouping.column));
            const auto & quantiles = group_quantiles_of(session, probe, seed, grouping);
            const auto found = quantiles.find(group);
            if (group.empty() || found == quantiles.end()) {
                sets[grouping.attribute->key] = nullptr;  // unknown group, or none of its images calibrates
                continue;
            }
            const std::vector<double> thresholds(probe.classes.size(), found->second);
            sets[grouping.attribute->key] =
                probe::prediction_set(row, thresholds, calibration.params, u, marginal.set.min_size, 0);
        }
        out["group_sets"] = std::move(sets);
    }

    // The probe's q_hat per group of an attribute, from the calib images of each group (in the
    // order the probe was calibrated on them); computed once per probe and attribute.
    const std::map<std::string, double> & group_quantiles_of(EvalSession & session, const probe::Probe & probe,
                                                             std::uint64_t seed, const Grouping & grouping) const {
        const auto key = std::make_tuple(session.params().shots, seed, grouping.attribute->key);
        if (const auto found = group_quantiles_.find(key); found != group_quantiles_.end()) {
            return found->second;
        }
        std::vector<std::size_t> calib;
        for (std::size_t i = 0; i < session.dataset().images.size(); ++i) {
            if (session.dataset().images[i].split == "calib") {
                calib.push_back(i);
            }
        }
        Eigen::MatrixXd probabilities(static_cast<Eigen::Index>(calib.size()),
                                      static_cast<Eigen::Index>(probe.classes.size()));
        std::vector<std::string> labels, groups;
        for (std::size_t r = 0; r < calib.size(); ++r) {
            const EvalImage & image = session.dataset().images[calib[r]];
            const std::vector<double> p = session.probe_probabilities(probe, calib[r]);
            probabilities.row(static_cast<Eigen::Index>(r)) =
                Eigen::Map<const Eigen::RowVectorXd>(p.data(), static_cast<Eigen::Index>(p.size()));
            labels.push_back(session.dataset().classes[image.cls]);
            groups.push_back(group_of(*grouping.attribute, image.metadata.at(grouping.column)));
        }
        const auto quantiles = probe::group_thresholds(*probe.calibration, probabilities,
                                                       probe.class_indices(labels, "calib split"), groups,
                                                       probe.calibration->alpha, nullptr);
        return group_quantiles_.emplace(key, quantiles).first->second;
    }

    // Coverage and mean size of the group-conditional sets of the group's own attribute.
    static void add_group_set_metrics(GroupSummary & summary, const GroupSamples & group) {
        const std::string & attribute = group.attribute->key;
        if (!std::all_of(group.samples.begin(), group.samples.end(), [&](const StoredSample & s) {
                return s.error || group_set(s.record, attribute) != nullptr;
            })) {
            return;
        }
        const auto covered = [&](const json & record) {
            const json & set = *group_set(record, attribute);
            return std::find(set.begin(), set.end(), record["truth"]) != set.end();
        };
        const auto size = [&](const json & record) { return static_cast<double>(group_set(record, attribute)->size()); };
        summary.metrics.push_back(over_seeds("group_set_coverage", values_of(share_per_seed(group.samples, covered))));
        summary.metrics.push_back(over_seeds("group_mean_set_size", values_of(mean_per_seed(group.samples, size))));
    }

    static ReportTable set_table(const std::vector<GroupSamples> & groups, const std::vector<GroupSummary> & summaries,
                                 const EvalParams & params) {
        ReportTable table{"Conformal sets per group",
                          fmt::format("The probe's {} sets, mean (± std) over {} runs: coverage in percent and mean "
                                      "size of the marginal sets (one q_hat from every calib image) and of the "
                                      "group-conditional ones (q_hat from the calib images of the image's group: "
                                      "coverage >= 1 - alpha within each group).",
                                      params.conformal_score, params.seeds),
                          {"Attribute", "Group", "Images", "Coverage", "Mean size", "Group-conditional coverage",
                           "Group-conditional mean size"},
                          {}};
        const auto number = [](const GroupSummary * summary, const std::string & metric) {
            const MetricValue * value = summary ? summary->metric(metric) : nullptr;
            return value && std::isfinite(value->mean) ? fmt::format("{:.2f} (± {:.2f})", value->mean, value->std)
                                                       : std::string("-");
        };
        for (const GroupSamples & group : groups) {
            const GroupSummary * summary =
                find_group(summaries, {{"attribute", group.attribute->key}, {"group", group.group}});
            table.rows.push_back({group.attribute->title, group.group, std::to_string(evaluated_images(group.samples)),
                                  percent_cell(summary, "set_coverage"), number(summary, "mean_set_size"),
                                  percent_cell(summary, "group_set_coverage"), number(summary, "group_mean_set_size")});
        }
        return table;
    }

    // (shots, seed, attribute) -> q_hat per group; run() is called in turn, never concurrently.
    mutable std::map<std::tuple<std::size_t, std::uint64_t, std::string>, std::map<std::string, double>>
        group_quantiles_;

    // The attribute's worst-group accuracy gap and demographic parity difference, per seed then mean ± std.
    static GroupSummary attribute_summary(const Grouping & grouping, const std::vector<GroupSamples> & groups,
                                          const EvalParams & params, const std::function<bool(const json &)> & malignant) {
        std::vector<const GroupSamples *> members;
        GroupSummary summary;
        summary.config = {{"strategy", params.strategy}, {"attribute", grouping.attribute->key}};
        for (const GroupSamples & group : groups) {
            if (group.attribute == grouping.attribute) {
                members.push_back(&group);
                summary.samples += group.samples.size();
            }
        }
        const std::vector<double> gaps = spread_per_seed(members, predicted_right);
        summary.seeds = gaps.size();
        summary.metrics = {over_seeds("worst_group_gap", gaps),
                           over_seeds("demographic_parity_difference", spread_per_seed(members, malignant))};
        return summary;
    }

    static ReportTable group_table(const std::vector<StoredSample> & samples, const std::vector<GroupSamples> & groups,
                                   const std::vector<GroupSummary> & summaries, const EvalParams & params) {
        ReportTable table{"Fairness: every metric per group",
                          fmt::format("The {} strategy; mean (± std) over {} runs, in percent. Malignant predicted: the "
                                      "share of images whose predicted class the knowledge base files as malignant.",
                                      params.strategy, params.seeds),
                          {"Attribute", "Group", "Images", "ACC", "F1", "BACC", "Malignant predicted"},
                          {}};
        const auto add_row = [&](std::string attribute, std::string group, std::size_t images, const GroupSummary * summary) {
            table.rows.push_back({std::move(attribute), std::move(group), std::to_string(images),
                                  percent_cell(summary, "accuracy"), percent_cell(summary, "macro_f1"),
                                  percent_cell(summary, "balanced_accuracy"),
                                  percent_cell(summary, "malignant_prediction_rate")});
        };
        add_row("all", "all", evaluated_images(samples), summaries.empty() ? nullptr : &summaries.front());
        for (const GroupSamples & group : groups) {
            add_row(group.attribute->title, group.group, evaluated_images(group.samples),
                    find_group(summaries, {{"attribute", group.attribute->key}, {"group", group.group}}));
        }
        return table;
    }

    static ReportTable gap_table(const std::vector<Grouping> & groupings, const std::vector<GroupSamples> & groups,
                                 const std::vector<GroupSummary> & gaps, const EvalParams & params) {
        ReportTable table{"Fairness gaps per attribute",
                          fmt::format("Mean (± std) over {} runs, in percent, of each run's largest difference between "
                                      "the attribute's groups: in accuracy (worst-group gap) and in the share of "
                                      "malignant predictions (demographic parity difference).",
                                      params.seeds),
                          {"Attribute", "Column", "Groups", "Worst-group gap (ACC)", "Demographic parity difference"},
                          {}};
        for (std::size_t i = 0; i < groupings.size(); ++i) {
            const Attribute * attribute = groupings[i].attribute;
            const auto count = std::count_if(groups.begin(), groups.end(),
                                             [&](const GroupSamples & group) { return group.attribute == attribute; });
            table.rows.push_back({attribute->title, groupings[i].column, std::to_string(count),
                                  percent_cell(&gaps[i], "worst_group_gap"),
                                  percent_cell(&gaps[i], "demographic_parity_difference")});
        }
        return table;
    }

    // The attribute's accuracy per group as bars.
    static void add_bar_plot(ProtocolReport & report, const EvalSession & session, const Attribute & attribute,
                             const std::vector<GroupSamples> & groups) {
        std::vector<std::string> names;
        std::vector<double> accuracies;
        for (const GroupSamples & group : groups) {
            const GroupSummary * summary = find_group(report.groups, {{"attribute", attribute.key}, {"group", group.group}});
            const MetricValue * accuracy = summary ? summary->metric("accuracy") : nullptr;
            if (group.attribute == &attribute && accuracy) {
                names.push_back(group.group);
                accuracies.push_back(accuracy->mean);
            }
        }
        if (names.empty()) {
            return;
        }
        report.plots.push_back({fmt::format("fairness_{}.png", attribute.key), fmt::format("Accuracy per {}", attribute.title),
                                grouped_bar_plot(names, {{"accuracy", accuracies}}, "accuracy",
                                                 fmt::format("{}: accuracy per {}", dataset_name(session), attribute.title))});
    }
};

}  // namespace

std::unique_ptr<Protocol> make_fairness() { return std::make_unique<Fairness>(); }

}  // namespace dermlens::eval
