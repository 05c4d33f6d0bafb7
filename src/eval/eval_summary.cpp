#include "eval/eval_summary.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace dermlens::eval {
namespace {

using json = nlohmann::ordered_json;

// One scored sample, its prediction as an index: `classes` stands for "no answer".
struct Scored {
    int truth = 0;
    int predicted = 0;
    std::optional<std::vector<double>> probabilities;
    std::optional<std::vector<std::size_t>> set;
};

json without_seed(const json & config) {
    json out = config;
    out.erase("seed");
    return out;
}

Scored scored(const StoredSample & sample, std::size_t classes) {
    const json & record = sample.record;
    const auto index = [&](const json & value, const char * field) {
        if (!value.is_number_integer() || value.get<long long>() < 0 || value.get<std::size_t>() >= classes) {
            throw Error(ErrorKind::InvalidInput, fmt::format("sample '{}': {} {} is not a class index below {}",
                                                             sample.key, field, value.dump(), classes));
        }
        return value.get<int>();
    };
    Scored out;
    out.truth = index(record.value("truth", json()), "truth");
    const json & predicted = record.value("predicted", json());
    out.predicted = predicted.is_null() ? static_cast<int>(classes) : index(predicted, "predicted");
    if (record.contains("probabilities")) {
        out.probabilities = record["probabilities"].get<std::vector<double>>();
        if (out.probabilities->size() != classes) {
            throw Error(ErrorKind::InvalidInput, fmt::format("sample '{}': {} probabilities for {} classes", sample.key,
                                                             out.probabilities->size(), classes));
        }
    }
    if (record.contains("set")) {
        out.set = record["set"].get<std::vector<std::size_t>>();
    }
    return out;
}

std::vector<int> truths(const std::vector<Scored> & rows) {
    std::vector<int> out;
    for (const auto & row : rows) {
        out.push_back(row.truth);
    }
    return out;
}

std::vector<int> predictions(const std::vector<Scored> & rows) {
    std::vector<int> out;
    for (const auto & row : rows) {
        out.push_back(row.predicted);
    }
    return out;
}

bool all_have_probabilities(const std::vector<Scored> & rows) {
    return std::all_of(rows.begin(), rows.end(), [](const Scored & row) { return row.probabilities.has_value(); });
}

Eigen::MatrixXd probability_matrix(const std::vector<Scored> & rows, std::size_t classes) {
    Eigen::MatrixXd out(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(classes));
    for (std::size_t r = 0; r < rows.size(); ++r) {
        for (std::size_t c = 0; c < classes; ++c) {
            out(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = (*rows[r].probabilities)[c];
        }
    }
    return out;
}

// The answered samples' confidence in their answer, and whether it was right.
void confidences(const std::vector<Scored> & rows, std::size_t classes, std::vector<double> & confidence,
                 std::vector<bool> & correct) {
    for (const auto & row : rows) {
        if (row.predicted < static_cast<int>(classes)) {
            confidence.push_back(std::clamp((*row.probabilities)[static_cast<std::size_t>(row.predicted)], 0.0, 1.0));
            correct.push_back(row.predicted == row.truth);
        }
    }
}

using Metric = std::function<double(const std::vector<Scored> &)>;

struct MetricDefinition {
    std::string name;
    Metric compute;
    bool bootstrapped = false;
};

// The metrics the group's records allow, in report order.
std::vector<MetricDefinition> metric_definitions(const std::vector<Scored> & rows, std::size_t classes,
                                                 const SummaryOptions & options) {
    std::vector<MetricDefinition> out{
        {"accuracy", [](const auto & r) { return metrics::accuracy(truths(r), predictions(r)); }, true},
        {"macro_f1", [](const auto & r) { return metrics::macro_f1(truths(r), predictions(r)); }, true},
        {"balanced_accuracy", [](const auto & r) { return metrics::balanced_accuracy(truths(r), predictions(r)); }, true},
        {"macro_precision", [](const auto & r) { return metrics::macro_precision(truths(r), predictions(r)); }},
        {"macro_recall", [](const auto & r) { return metrics::macro_recall(truths(r), predictions(r)); }},
        {"abstention_rate",
         [classes](const auto & r) {
             const auto unanswered = std::count_if(r.begin(), r.end(), [classes](const Scored & s) {
                 return s.predicted == static_cast<int>(classes);
             });
             return static_cast<double>(unanswered) / static_cast<double>(r.size());
         }},
    };
    if (all_have_probabilities(rows)) {
        if (classes > options.top_k) {
            out.push_back({fmt::format("top_{}_accuracy", options.top_k), [classes, k = options.top_k](const auto & r) {
                               return metrics::top_k_accuracy(truths(r), probability_matrix(r, classes), k);
                           }});
        }
        out.push_back({"roc_auc", [classes](const auto & r) {
                           return metrics::roc_auc_ovr_macro(truths(r), probability_matrix(r, classes));
                       }});
        out.push_back({"ece", [classes](const auto & r) {
                           std::vector<double> confidence;
                           std::vector<bool> correct;
                           confidences(r, classes, confidence, correct);
                           return confidence.empty() ? std::nan("") : metrics::expected_calibration_error(confidence, correct);
                       }});
    }
    if (std::all_of(rows.begin(), rows.end(), [](const Scored & row) { return row.set.has_value(); })) {
        const auto sets = [](const std::vector<Scored> & r) {
            std::vector<std::vector<std::size_t>> all;
            for (const auto & s : r) {
                all.push_back(*s.set);
            }
            return all;
        };
        out.push_back({"set_coverage", [sets](const auto & r) { return metrics::set_coverage(truths(r), sets(r)); }});
        out.push_back({"mean_set_size", [sets](const auto & r) { return metrics::mean_set_size(sets(r)); }});
        out.push_back({"median_set_size", [sets](const auto & r) { return metrics::set_statistics(truths(r), sets(r)).median_size; }});
        out.push_back({"empty_set_share", [sets](const auto & r) { return metrics::set_statistics(truths(r), sets(r)).empty_share; }});
        out.push_back({"singleton_share",
                       [sets](const auto & r) { return metrics::set_statistics(truths(r), sets(r)).singleton_share; }});
        // Per class and per set size that occur (NaN in a seed without such rows: left out of its mean).
        std::set<std::size_t> sizes;
        std::set<int> present;
        for (const Scored & row : rows) {
            sizes.insert(row.set->size());
            present.insert(row.truth);
        }
        for (const int c : present) {
            out.push_back({fmt::format("set_coverage_class_{}", c), [sets, c, classes](const auto & r) {
                               return metrics::set_statistics_per_class(truths(r), sets(r), classes)[static_cast<std::size_t>(c)]
                                   .coverage;
                           }});
        }
        out.push_back({"worst_class_set_coverage", [sets, classes](const auto & r) {
                           double worst = std::nan("");
                           for (const metrics::SetStatistics & s : metrics::set_statistics_per_class(truths(r), sets(r), classes)) {
                               worst = std::isnan(worst) || s.coverage < worst ? s.coverage : worst;
                           }
                           return worst;
                       }});
        for (const std::size_t size : sizes) {
            out.push_back({fmt::format("set_coverage_size_{}", size), [sets, size](const auto & r) {
                               for (const metrics::SizeCoverage & s : metrics::coverage_by_set_size(truths(r), sets(r))) {
                                   if (s.size == size) {
                                       return s.coverage;
                                   }
                               }
                               return std::nan("");
                           }});
        }
    }
    return out;
}

struct GroupRows {
    json config;
    std::map<long long, std::vector<Scored>> by_seed;  // seed (or 0 without one) -> rows
    std::size_t failed = 0;
};

GroupSummary summarise_group(const GroupRows & group, std::size_t classes, const SummaryOptions & options) {
    GroupSummary out;
    out.config = group.config;
    out.classes = classes;
    out.failed = group.failed;
    std::vector<Scored> pooled;
    for (const auto & [seed, rows] : group.by_seed) {
        if (!rows.empty()) {
            ++out.seeds;
            pooled.insert(pooled.end(), rows.begin(), rows.end());
        }
    }
    out.samples = pooled.size();
    if (pooled.empty()) {
        return out;
    }
    for (const MetricDefinition & definition : metric_definitions(pooled, classes, options)) {
        std::vector<double> per_seed;
        for (const auto & [seed, rows] : group.by_seed) {
            if (!rows.empty()) {
                per_seed.push_back(definition.compute(rows));
            }
        }
        const metrics::MeanStd spread = metrics::mean_std(per_seed);
        MetricValue value{definition.name, spread.mean, spread.std, std::nullopt};
        if (definition.bootstrapped) {
            value.interval = metrics::bootstrap_interval(
                pooled.size(),
                [&](const std::vector<std::size_t> & indices) {
                    std::vector<Scored> resample;
                    resample.reserve(indices.size());
                    for (const std::size_t i : indices) {
                        resample.push_back(pooled[i]);
                    }
                    return definition.compute(resample);
                },
                options.seed, options.bootstrap_resamples);
        }
        out.metrics.push_back(std::move(value));
    }
    out.confusion = metrics::confusion_matrix(truths(pooled), predictions(pooled), classes + 1);
    if (all_have_probabilities(pooled)) {
        std::vector<double> confidence;
        std::vector<bool> correct;
        confidences(pooled, classes, confidence, correct);
        if (!confidence.empty()) {
            out.reliability = metrics::reliability_bins(confidence, correct);
        }
    }
    return out;
}

json finite_or_null(double value) {
    return std::isfinite(value) ? json(value) : json(nullptr);
}

}  // namespace

const MetricValue * GroupSummary::metric(const std::string & name) const {
    const auto found = std::find_if(metrics.begin(), metrics.end(), [&](const MetricValue & m) { return m.name == name; });
    return found == metrics.end() ? nullptr : &*found;
}

std::vector<GroupSummary> summarise_groups(const std::vector<StoredSample> & samples,
                                           const std::function<std::size_t(const json &)> & classes_of,
                                           const SummaryOptions & options) {
    std::vector<GroupRows> groups;
    for (const StoredSample & sample : samples) {
        const json & config = sample.record.value("config", json::object());
        const json key = without_seed(config);
        auto group = std::find_if(groups.begin(), groups.end(), [&](const GroupRows & g) { return g.config == key; });
        if (group == groups.end()) {
            groups.push_back({key, {}, 0});
            group = std::prev(groups.end());
        }
        const long long seed = config.value("seed", 0LL);
        if (sample.error) {
            ++group->failed;
            group->by_seed[seed];  // a seed whose every sample failed still shows as having none
            continue;
        }
        group->by_seed[seed].push_back(scored(sample, classes_of(config)));
    }
    std::vector<GroupSummary> out;
    for (const GroupRows & group : groups) {
        out.push_back(summarise_group(group, classes_of(group.config), options));
    }
    return out;
}

std::size_t evaluated_images(const std::vector<StoredSample> & samples) {
    std::set<std::string> images;
    for (const StoredSample & sample : samples) {
        images.insert(sample.record.value("image", std::string()));
    }
    return images.size();
}

const GroupSummary * find_group(const std::vector<GroupSummary> & groups, const json & subset) {
    for (const GroupSummary & group : groups) {
        const bool matches = std::all_of(subset.items().begin(), subset.items().end(), [&](const auto & item) {
            return group.config.contains(item.key()) && group.config[item.key()] == item.value();
        });
        if (matches) {
            return &group;
        }
    }
    return nullptr;
}

std::string percent_cell(const GroupSummary * group, const std::string & metric) {
    const MetricValue * value = group ? group->metric(metric) : nullptr;
    if (value == nullptr || !std::isfinite(value->mean)) {
        return "-";
    }
    return fmt::format("{:.2f} (± {:.2f})", 100 * value->mean, 100 * value->std);
}

json to_json(const std::vector<GroupSummary> & groups) {
    json out = json::array();
    for (const GroupSummary & group : groups) {
        json metrics = json::object();
        for (const MetricValue & m : group.metrics) {
            json entry = {{"mean", finite_or_null(m.mean)}, {"std", finite_or_null(m.std)}};
            if (m.interval) {
                entry["ci95"] = {finite_or_null(m.interval->low), finite_or_null(m.interval->high)};
            }
            metrics[m.name] = std::move(entry);
        }
        out.push_back({{"config", group.config},
                       {"classes", group.classes},
                       {"seeds", group.seeds},
                       {"samples", group.samples},
                       {"failed", group.failed},
                       {"metrics", std::move(metrics)}});
    }
    return out;
}

}  // namespace dermlens::eval
