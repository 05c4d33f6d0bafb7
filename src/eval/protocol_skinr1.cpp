// Paper 002's multiple-choice evaluation (tables 2-3, fig. 3): four-option diagnosis
// questions whose distractors come from the dataset's label set and the taxonomy, the same
// questions with the truth's ancestors as distractors (hierarchical) and with its DDx
// neighbours (DDx), where the most fine-grained option on the truth's path is the correct
// one; and the lesion-condition question, A: benign, B: malignant, C: precancerous in situ.
#include "eval/protocol_factories.h"
#include "eval/protocol_support.h"

#include "kb/multiple_choice.h"

#include <fmt/format.h>

#include <array>
#include <optional>

namespace dermlens::eval {
namespace {

using json = nlohmann::ordered_json;

constexpr std::size_t kOptions = 4;
const std::string kMalignancySet = "malignancy";
const std::array<std::pair<const char *, kb::DistractorStrategy>, 3> kDiagnosisSets{{
    {"in-distribution", kb::DistractorStrategy::Random},
    {"hierarchical", kb::DistractorStrategy::Hierarchical},
    {"ddx", kb::DistractorStrategy::Ddx},
}};
// Paper 002 appendix D's wording and order.
const std::array<std::pair<kb::Malignancy, const char *>, 3> kLesionConditions{{
    {kb::Malignancy::Benign, "benign"},
    {kb::Malignancy::Malignant, "malignant"},
    {kb::Malignancy::Precancerous, "precancerous in situ"},
}};

struct Question {
    std::vector<std::string> options;     // as the prompt shows them
    std::vector<std::string> conditions;  // the options' condition ids (diagnosis questions)
    std::size_t correct = 0;
};

std::optional<Question> diagnosis_question(const EvalSession & session, const EvalImage & image,
                                           kb::DistractorStrategy strategy, std::uint64_t seed) {
    const kb::KnowledgeBase & kb = session.kb();
    Question question;
    question.conditions = kb::sample_options(kb, image.condition, strategy, kOptions, per_image_seed(image.image, seed),
                                             session.dataset().label_set);
    const auto correct = kb::correct_option(kb, question.conditions, image.condition);
    if (question.conditions.size() < 2 || !correct) {
        return std::nullopt;  // e.g. a class right below the root has no ancestor to offer
    }
    for (const std::string & id : question.conditions) {
        question.options.push_back(kb.condition(id).name);
    }
    question.correct = *correct;
    return question;
}

std::optional<Question> lesion_condition_question(const EvalSession & session, const EvalImage & image) {
    const auto malignancy = session.kb().malignancy(image.condition);
    if (!malignancy) {
        return std::nullopt;
    }
    Question question;
    for (std::size_t i = 0; i < kLesionConditions.size(); ++i) {
        question.options.push_back(kLesionConditions[i].second);
        if (kLesionConditions[i].first == *malignancy) {
            question.correct = i;
        }
    }
    return question;
}

std::optional<Question> question_of(const EvalSession & session, std::size_t image, const json & config) {
    const EvalImage & row = session.dataset().images[image];
    const std::string set = config["set"];
    if (set == kMalignancySet) {
        return lesion_condition_question(session, row);
    }
    for (const auto & [name, strategy] : kDiagnosisSets) {
        if (set == name) {
            return diagnosis_question(session, row, strategy, config["seed"].get<std::uint64_t>());
        }
    }
    return std::nullopt;
}

class MultipleChoice final : public Protocol {
public:
    std::string name() const override { return "skinr1-mcq"; }
    std::string description() const override {
        return "paper 002 tables 2-3: four-option diagnosis questions (label-set and taxonomy distractors, ancestor "
               "distractors, DDx distractors) and the benign / malignant / precancerous question";
    }

    // Only the questions that can be asked: two or more options, the truth's lesion condition known.
    std::vector<WorkItem> plan(const EvalSession & session) const override {
        std::vector<json> configs;
        for (const auto & [set, strategy] : kDiagnosisSets) {
            configs.push_back({{"set", set}});
        }
        configs.push_back({{"set", kMalignancySet}});
        std::vector<WorkItem> items;
        for (WorkItem & item : plan_per_image(session, with_seeds(configs, session.params()))) {
            if (question_of(session, item.image, item.config)) {
                items.push_back(std::move(item));
            }
        }
        return items;
    }

    json run(const WorkItem & item, EvalSession & session) const override {
        const Question question = *question_of(session, item.image, item.config);
        const MultipleChoiceAnswer answer = ask_multiple_choice(session, item.image, question.options);
        const std::vector<double> & answered = answer.probabilities;
        std::vector<double> probabilities(classes(item.config), 0.0);
        std::copy(answered.begin(), answered.end(), probabilities.begin());
        json out = sample_header(session, item);
        out["truth"] = question.correct;  // the option's index, not the image's class
        out["predicted"] = static_cast<std::size_t>(std::max_element(answered.begin(), answered.end()) - answered.begin());
        out["probabilities"] = probabilities;
        out["options"] = question.options;
        if (!question.conditions.empty()) {
            out["option_conditions"] = question.conditions;
        }
        out["timings"] = answer.timings;
        return out;
    }

    ProtocolReport summarise(const EvalSession & session, const std::vector<StoredSample> & samples) const override {
        const EvalParams & params = session.params();
        ProtocolReport report;
        report.groups = summarise_groups(samples, classes, summary_options(params));
        ReportTable table{"Tables 2-3: multiple-choice diagnosis",
                          fmt::format("Accuracy (%), mean (± std) over {} runs of the option sampling; lesion "
                                      "condition also macro-F1 over benign / malignant / precancerous in situ.",
                                      params.seeds),
                          {"Dataset"},
                          {{dataset_name(session)}}};
        for (const auto & [set, strategy] : kDiagnosisSets) {
            table.header.push_back(fmt::format("{} ACC", set));
            table.rows[0].push_back(percent_cell(find_group(report.groups, {{"set", set}}), "accuracy"));
        }
        const GroupSummary * lesion = find_group(report.groups, {{"set", kMalignancySet}});
        table.header.insert(table.header.end(), {"lesion condition ACC", "lesion condition F1"});
        table.rows[0].insert(table.rows[0].end(), {percent_cell(lesion, "accuracy"), percent_cell(lesion, "macro_f1")});
        report.tables.push_back(std::move(table));

        ReportTable counts{"Questions asked", "Per set: questions (images x runs) and failures.", {"set", "questions", "failed"}, {}};
        for (const GroupSummary & group : report.groups) {
            counts.rows.push_back({group.config["set"].get<std::string>(), std::to_string(group.samples),
                                   std::to_string(group.failed)});
        }
        report.tables.push_back(std::move(counts));
        if (lesion) {
            std::vector<std::string> names;
            for (const auto & [malignancy, name] : kLesionConditions) {
                names.push_back(name);
            }
            add_group_plots(report, *lesion, names, kMalignancySet, "lesion condition");
        }
        return report;
    }

private:
    static std::size_t classes(const json & config) {
        return config["set"] == kMalignancySet ? kLesionConditions.size() : kOptions;
    }
};

}  // namespace

std::unique_ptr<Protocol> make_skinr1_mcq() { return std::make_unique<MultipleChoice>(); }

}  // namespace dermlens::eval
