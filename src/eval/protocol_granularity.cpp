// Paper 004's hierarchical evaluation (DERM12345: 40 subclasses, 15 main classes, super
// classes, binary malignancy): one pipeline strategy's prediction scored at every level of
// the knowledge base's taxonomy — truth and prediction mapped to their ancestor at depth d (a
// class shallower than d stays itself), d from the dataset's deepest class up to 1 — and on
// the lesion condition the knowledge base gives them (benign / malignant / precancerous).
#include "eval/protocol_factories.h"
#include "eval/protocol_support.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace dermlens::eval {
namespace {

using json = nlohmann::ordered_json;

const std::string kMalignancyLevel = "malignancy";

// One level a prediction is scored at: each of the dataset's classes mapped to a class of the level.
struct Level {
    std::string name;                                  // "depth 3", "malignancy"
    std::vector<std::string> classes;                  // condition ids or malignancy names, sorted
    std::vector<std::optional<std::size_t>> of_class;  // per dataset class; none when its malignancy is unknown
};

Level make_level(std::string name, const std::vector<std::optional<std::string>> & mapped) {
    Level level{std::move(name), {}, {}};
    for (const auto & value : mapped) {
        if (value) {
            level.classes.push_back(*value);
        }
    }
    std::sort(level.classes.begin(), level.classes.end());
    level.classes.erase(std::unique(level.classes.begin(), level.classes.end()), level.classes.end());
    const auto index_of = [&](const std::string & value) {
        return static_cast<std::size_t>(std::lower_bound(level.classes.begin(), level.classes.end(), value) -
                                        level.classes.begin());
    };
    for (const auto & value : mapped) {
        level.of_class.push_back(value ? std::optional<std::size_t>(index_of(*value)) : std::nullopt);
    }
    return level;
}

// `condition`'s ancestor at `depth` (the root is at 0); the condition itself when it is not that deep.
std::string ancestor_at(const kb::KnowledgeBase & kb, const std::string & condition, std::size_t depth) {
    const std::vector<std::string> path = kb.path_to_root(condition);  // the condition first, the root last
    return path.size() - 1 > depth ? path[path.size() - 1 - depth] : condition;
}

// The deepest level first (the dataset's own classes), up to depth 1, then the lesion condition.
std::vector<Level> levels_of(const EvalSession & session) {
    const kb::KnowledgeBase & kb = session.kb();
    const std::vector<std::string> conditions = class_conditions(session);
    std::size_t deepest = 0;
    for (const std::string & condition : conditions) {
        deepest = std::max(deepest, kb.depth(condition));
    }
    std::vector<Level> levels;
    for (std::size_t depth = deepest; depth >= 1; --depth) {
        std::vector<std::optional<std::string>> ancestors;
        for (const std::string & condition : conditions) {
            ancestors.push_back(ancestor_at(kb, condition, depth));
        }
        levels.push_back(make_level(fmt::format("depth {}", depth), ancestors));
    }
    std::vector<std::optional<std::string>> malignancies;
    for (const std::string & condition : conditions) {
        const auto malignancy = kb.malignancy(condition);
        malignancies.push_back(malignancy ? std::optional<std::string>(kb::malignancy_name(*malignancy)) : std::nullopt);
    }
    levels.push_back(make_level(kMalignancyLevel, malignancies));
    return levels;
}

// The samples as `level` scores them: truth and prediction replaced by their level classes (a
// prediction without one, of unknown malignancy, is wrong), the configuration tagged with the
// level. A sample whose truth has no level class is left out.
std::vector<StoredSample> at_level(const std::vector<StoredSample> & samples, const Level & level) {
    std::vector<StoredSample> out;
    for (const StoredSample & sample : samples) {
        json config = sample.record.value("config", json::object());
        config["level"] = level.name;
        StoredSample scored{sample.key, sample.order, {{"image", sample.record.value("image", json())}, {"config", config}},
                            sample.error};
        if (!sample.error) {
            const auto truth = level.of_class.at(sample.record["truth"].get<std::size_t>());
            if (!truth) {
                continue;
            }
            scored.record["truth"] = *truth;
            scored.record["predicted"] = nullptr;
            const json & predicted = sample.record["predicted"];
            if (!predicted.is_null()) {
                if (const auto mapped = level.of_class.at(predicted.get<std::size_t>())) {
                    scored.record["predicted"] = *mapped;
                }
            }
        }
        out.push_back(std::move(scored));
    }
    return out;
}

class Granularity final : public Protocol {
public:
    std::string name() const override { return "granularity"; }
    std::string description() const override {
        return "paper 004 (DERM12345's 40 / 15 / 5 / malignancy levels): the prediction of the run's strategy scored "
               "at every depth of the taxonomy and on its lesion condition";
    }

    std::vector<WorkItem> plan(const EvalSession & session) const override {
        return plan_per_image(session, with_seeds({{{"strategy", session.params().strategy}}}, session.params()));
    }

    json run(const WorkItem & item, EvalSession & session) const override {
        return strategy_record(session, item, item.config["strategy"]);
    }

    ProtocolReport summarise(const EvalSession & session, const std::vector<StoredSample> & samples) const override {
        const EvalParams & params = session.params();
        const SummaryOptions options = summary_options(params);
        const std::vector<Level> levels = levels_of(session);
        ProtocolReport report;
        // The dataset's classes first: its records' indices are checked there, before any level reads them.
        report.groups = summarise_dataset_groups(session, samples);
        std::vector<StoredSample> scored;
        for (const Level & level : levels) {
            const std::vector<StoredSample> at = at_level(samples, level);
            scored.insert(scored.end(), at.begin(), at.end());
        }
        const auto level_classes = [&](const json & config) {
            return std::find_if(levels.begin(), levels.end(), [&](const Level & l) { return l.name == config["level"]; })
                ->classes.size();
        };
        for (GroupSummary & group : summarise_groups(scored, level_classes, options)) {
            report.groups.push_back(std::move(group));
        }

        ReportTable table{"Accuracy per level of granularity",
                          fmt::format("Accuracy (%) of the {} strategy, mean (± std) over {} runs, with truth and "
                                      "prediction mapped to their ancestor at each depth of the taxonomy (a class "
                                      "shallower than that stays itself), then to their lesion condition; each "
                                      "column gives the number of the dataset's classes at that level.",
                                      params.strategy, params.seeds),
                          {"Dataset"},
                          {{dataset_name(session)}}};
        ReportTable detail{"Every metric per level", "Mean (± std) over runs, in percent; samples: images x runs scored.",
                           {"level", "classes", "samples", "accuracy", "macro_f1", "balanced_accuracy"}, {}};
        for (const Level & level : levels) {
            const GroupSummary * group = find_group(report.groups, {{"level", level.name}});
            table.header.push_back(fmt::format("{}: {} classes", level.name, level.classes.size()));
            table.rows[0].push_back(percent_cell(group, "accuracy"));
            detail.rows.push_back({level.name, std::to_string(level.classes.size()),
                                   std::to_string(group ? group->samples : 0), percent_cell(group, "accuracy"),
                                   percent_cell(group, "macro_f1"), percent_cell(group, "balanced_accuracy")});
        }
        report.tables.push_back(std::move(table));
        report.tables.push_back(std::move(detail));

        if (!report.groups.empty()) {
            add_group_plots(report, report.groups.front(), session.dataset().classes, params.strategy, params.strategy);
        }
        if (const GroupSummary * group = find_group(report.groups, {{"level", kMalignancyLevel}})) {
            add_group_plots(report, *group, levels.back().classes, kMalignancyLevel, "lesion condition");
        }
        return report;
    }
};

}  // namespace

std::unique_ptr<Protocol> make_granularity() { return std::make_unique<Granularity>(); }

}  // namespace dermlens::eval
