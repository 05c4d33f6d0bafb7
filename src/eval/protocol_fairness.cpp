// Paper 004's fairness audit (SkinGPT-4 across Fitzpatrick skin types): one pipeline
// strategy's predictions grouped by the manifest's demographic columns — Fitzpatrick skin
// type, sex, age band — with every metric per group, the worst-group accuracy gap and the
// demographic parity difference of predicting a malignant class.
#include "eval/protocol_factories.h"
#include "eval/protocol_support.h"

#include "dermlens/error.h"
#include "eval/plots.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>

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

// Per seed, the share of the scored samples a predicate holds for.
std::map<long long, double> share_per_seed(const std::vector<StoredSample> & samples,
                                           const std::function<bool(const json &)> & holds) {
    std::map<long long, std::pair<std::size_t, std::size_t>> counts;  // seed -> (holds, scored)
    for (const StoredSample & sample : samples) {
        if (!sample.error) {
            auto & [yes, scored] = counts[sample.record["config"].value("seed", 0LL)];
            yes += holds(sample.record) ? 1 : 0;
            ++scored;
        }
    }
    std::map<long long, double> out;
    for (const auto & [seed, count] : counts) {
        out[seed] = static_cast<double>(count.first) / static_cast<double>(count.second);
    }
    return out;
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
            report.groups.push_back(std::move(summary));
        }
        std::vector<GroupSummary> gaps;  // per attribute, as groupings
        for (const Grouping & grouping : groupings) {
            gaps.push_back(attribute_summary(grouping, groups, params, malignant));
        }
        report.tables.push_back(group_table(samples, groups, report.groups, params));
        report.tables.push_back(gap_table(groupings, groups, gaps, params));
        for (const Grouping & grouping : groupings) {
            add_bar_plot(report, session, *grouping.attribute, groups);
        }
        report.groups.insert(report.groups.end(), gaps.begin(), gaps.end());
        return report;
    }

private:
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
