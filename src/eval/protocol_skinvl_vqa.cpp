// Paper 001 table 3 (MM-Skin VQA): open questions about images, answered by the model and scored
// against the reference answers per modality with BLEU-4 (corpus level), METEOR, ROUGE-L and
// token recall as the authors' VQA_test.py computes them (metrics/text_metrics.h; BERTScore
// needs a BERT model and is left out). The questions come from a JSON Lines file
// (vqa_questions.h); every question of an image is planned with the image, so it is encoded once.
#include "eval/protocol_factories.h"
#include "eval/protocol_support.h"

#include "dermlens/error.h"
#include "metrics/text_metrics.h"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <optional>

namespace dermlens::eval {
namespace {

using json = nlohmann::ordered_json;

// The metrics in table 3's order, by their summary names.
const std::vector<std::pair<std::string, std::string>> & metric_columns() {
    static const std::vector<std::pair<std::string, std::string>> columns{
        {"BLEU-4", "bleu4"}, {"METEOR", "meteor"}, {"ROUGE-L", "rouge_l"}, {"Recall", "recall"}};
    return columns;
}

struct Answers {
    std::vector<std::string> answers, references;
};

// WordNet for METEOR's synonym stage; nullptr (and a note) when its files are missing.
std::unique_ptr<metrics::WordNet> load_wordnet(std::string & note) {
    try {
        return std::make_unique<metrics::WordNet>();
    } catch (const Error & e) {
        note = fmt::format(" METEOR without its synonym stage: {}.", e.what());
        return nullptr;
    }
}

GroupSummary modality_group(const std::string & modality, const std::map<long long, Answers> & per_seed,
                            std::size_t failed, const metrics::WordNet * wordnet, metrics::RougeVariant rouge) {
    GroupSummary group;
    group.config = {{"modality", modality}};
    group.seeds = per_seed.size();
    group.failed = failed;
    std::map<std::string, std::vector<double>> values;
    for (const auto & [seed, answers] : per_seed) {
        group.samples += answers.answers.size();
        const metrics::TextScores scores = metrics::score_answers(answers.answers, answers.references, wordnet, rouge);
        values["bleu4"].push_back(scores.bleu4);
        values["meteor"].push_back(scores.meteor);
        values["rouge_l"].push_back(scores.rouge_l);
        values["recall"].push_back(scores.recall);
    }
    for (const auto & [column, name] : metric_columns()) {
        const metrics::MeanStd summary = metrics::mean_std(values[name]);
        group.metrics.push_back({name, summary.mean, summary.std, std::nullopt});
    }
    return group;
}

class SkinVlVqa final : public Protocol {
public:
    std::string name() const override { return "skinvl-vqa"; }
    std::string description() const override {
        return "paper 001 table 3: open questions about images (a JSON Lines file) answered by the model; BLEU-4, "
               "METEOR, ROUGE-L and recall against the reference answers per modality";
    }

    std::vector<WorkItem> plan(const EvalSession & session) const override {
        std::vector<WorkItem> items;
        const auto & rows = session.test_rows();
        for (std::size_t ordinal = 0; ordinal < rows.size(); ++ordinal) {
            for (const std::size_t q : session.vqa().questions_of(rows[ordinal])) {
                for (std::size_t s = 0; s < session.params().seeds; ++s) {
                    const json config{{"line", session.vqa().questions[q].line}, {"seed", session.params().seed + s}};
                    items.push_back({item_key(config, session.dataset().images[rows[ordinal]].image), rows[ordinal],
                                     ordinal, config});
                }
            }
        }
        return items;
    }

    // The question as the user's turn after the image; greedy unless --temperature samples it,
    // seeded per image, question and seed.
    json run(const WorkItem & item, EvalSession & session) const override {
        const VqaQuestion & question = find_question(session, item.config["line"].get<std::size_t>());
        const std::string & image = session.dataset().images[item.image].image;
        const auto seed = static_cast<std::uint32_t>(
            per_image_seed(image + "#" + std::to_string(question.line), item.config["seed"].get<std::uint64_t>()));
        const model::ChatPrompt prompt{{{model::ChatTurn::Role::User, model::Vlm::user_message(question.question)}}, ""};
        const model::Generation reply = session.vlm().generate(
            session.encoding(item.image), prompt,
            {session.params().answer_tokens, "", session.params().temperature, seed});
        json out = sample_header(session, item);
        out["modality"] = question.modality;
        out["question"] = question.question;
        out["reference"] = question.reference;
        out["answer"] = reply.text;
        out["timings"] = {{"encode_ms", session.encoding(item.image).encode_ms},
                          {"generate_ms", reply.timings.total_ms},
                          {"prompt_tokens", reply.prompt_tokens},
                          {"generated_tokens", reply.tokens.size()}};
        return out;
    }

    ProtocolReport summarise(const EvalSession & session, const std::vector<StoredSample> & samples) const override {
        std::map<std::string, std::map<long long, Answers>> by_modality;
        std::map<std::string, std::size_t> failed;
        for (const StoredSample & sample : samples) {
            const std::string modality = sample.record.value("modality", sample.record.value("label", ""));
            if (sample.error) {
                ++failed[modality];
                ++failed["all"];
                continue;
            }
            const long long seed = sample.record["config"]["seed"].get<long long>();
            for (const std::string & group : {modality, std::string("all")}) {
                Answers & answers = by_modality[group][seed];
                answers.answers.push_back(sample.record["answer"].get<std::string>());
                answers.references.push_back(sample.record["reference"].get<std::string>());
            }
        }
        std::string note;
        const std::unique_ptr<metrics::WordNet> wordnet = load_wordnet(note);
        const metrics::RougeVariant rouge = metrics::parse_rouge_variant(session.params().rouge);
        ProtocolReport report;
        for (const std::string & modality : session.dataset().classes) {
            if (by_modality.count(modality)) {
                report.groups.push_back(modality_group(modality, by_modality[modality], failed[modality], wordnet.get(), rouge));
            }
        }
        if (by_modality.count("all")) {
            report.groups.push_back(modality_group("all", by_modality["all"], failed["all"], wordnet.get(), rouge));
        }
        report.tables.push_back(vqa_table(session, report.groups, note));
        return report;
    }

private:
    static const VqaQuestion & find_question(const EvalSession & session, std::size_t line) {
        for (const VqaQuestion & question : session.vqa().questions) {
            if (question.line == line) {
                return question;
            }
        }
        throw Error(ErrorKind::InvalidInput, fmt::format("VQA questions: no question on line {}", line), "manifest");
    }

    static ReportTable vqa_table(const EvalSession & session, const std::vector<GroupSummary> & groups,
                                 const std::string & note) {
        const EvalParams & params = session.params();
        ReportTable table{"Table 3: VQA",
                          fmt::format("BLEU-4 (corpus), METEOR, ROUGE-L ({}) and token recall (%) of {}'s answers "
                                      "against the reference answers, whitespace tokens, mean (± std) over {} runs.{}",
                                      params.rouge == "summary" ? "summary-level, distinct words, as pltrdy's rouge"
                                                                : "sentence-level LCS F1",
                                      params.vlm.model_path.filename().string(), params.seeds, note),
                          {"Modality"},
                          {}};
        for (const auto & [column, metric] : metric_columns()) {
            table.header.push_back(column);
        }
        for (const GroupSummary & group : groups) {
            std::vector<std::string> row{group.config["modality"].get<std::string>()};
            for (const auto & [column, metric] : metric_columns()) {
                row.push_back(percent_cell(&group, metric));
            }
            table.rows.push_back(std::move(row));
        }
        return table;
    }
};

}  // namespace

std::unique_ptr<Protocol> make_skinvl_vqa() { return std::make_unique<SkinVlVqa>(); }

}  // namespace dermlens::eval
