// dermlens data split-captions FIGURES.jsonl --out PAIRS.jsonl [--mismatches FILE] [--json]
// dermlens data annotate PAIRS.jsonl --out OUT.jsonl [--rules FILE] [--json]
// dermlens data filter PAIRS.jsonl --out OUT.jsonl [--min-size 300] [--remove-flagged] [--json]
// dermlens data stats FILE.jsonl [--json]
// dermlens data vqa-generate PAIRS.jsonl --out OUT.jsonl --model TEXT.gguf [--questions Q.jsonl]
//   [--rejected FILE] [--max-tokens 512] [--temperature 0] [--seed 0] [--threads N] [--json]
// Paper 001's (MM-Skin) data tools on JSON Lines files (docs/data-tools.md): figures' captions
// split into one per image, age / sex / removal flags read from captions, images under the
// minimum resolution left out, and the dataset's statistics.
#include "commands.h"
#include "kb_options.h"

#include "dermlens/error.h"
#include "mmskin/caption_rules.h"
#include "mmskin/captions.h"
#include "mmskin/records.h"
#include "mmskin/resolution.h"
#include "mmskin/statistics.h"
#include "mmskin/vqa_writer.h"

#include <fmt/format.h>

#include <cmath>
#include <memory>

namespace dermlens::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using mmskin::Record;

struct DataOptions {
    std::string input;
    std::string out;
    std::string mismatches;  // split-captions: where to write the figures left unpaired
    std::string rules;       // annotate: the caption rules file
    std::uint32_t min_size = 300;
    bool remove_flagged = false;
    bool json = false;
    // vqa-generate
    std::string model;
    std::string questions;  // the VQA protocol's question file to write
    std::string rejected;   // the rejected turns, with reasons
    mmskin::VqaWriterParams writer;
    int threads = 0;
};

// An image path of a record, relative to the folder of the file that lists it.
fs::path image_path(const DataOptions & options, const std::string & image) {
    const fs::path path(image);
    return path.is_absolute() ? path : fs::path(options.input).parent_path() / path;
}

void report(const DataOptions & options, const ordered_json & summary, const std::string & text) {
    if (options.json) {
        print_json(summary);
    } else {
        fmt::print("{}", text);
    }
}

int run_split_captions(const DataOptions & options) {
    const std::vector<Record> figures = mmskin::read_records(options.input, {"caption"});
    std::vector<Record> pairs;
    std::vector<Record> mismatches;
    for (std::size_t f = 0; f < figures.size(); ++f) {
        const Record & figure = figures[f];
        if (!figure.contains("images") || !figure["images"].is_array()) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("'{}' figure {}: no 'images' list", options.input, f + 1), "images");
        }
        const std::string id = figure.value("figure", std::to_string(f + 1));
        const auto pairing = mmskin::pair_panels(mmskin::split_caption(figure["caption"].get<std::string>()),
                                                 figure["images"].get<std::vector<std::string>>());
        if (!pairing.mismatch.empty()) {
            mismatches.push_back({{"figure", id}, {"reason", pairing.mismatch}, {"caption", figure["caption"]},
                                  {"images", figure["images"]}});
        }
        for (const mmskin::ImageCaption & pair : pairing.pairs) {
            Record out{{"figure", id}, {"image", pair.image}, {"panel", pair.panel}, {"caption", pair.caption}};
            for (const auto & [key, value] : figure.items()) {
                if (key != "images" && key != "caption" && key != "figure") {
                    out[key] = value;
                }
            }
            pairs.push_back(std::move(out));
        }
    }
    mmskin::write_records(options.out, pairs);
    if (!options.mismatches.empty()) {
        mmskin::write_records(options.mismatches, mismatches);
    }
    std::string text = fmt::format("split-captions: {} figures -> {} image-caption pairs in '{}'; {} figures not "
                                   "paired (labels and images differ)\n",
                                   figures.size(), pairs.size(), options.out, mismatches.size());
    for (const Record & mismatch : mismatches) {
        text += fmt::format("  {}: {}\n", mismatch["figure"].get<std::string>(), mismatch["reason"].get<std::string>());
    }
    report(options, {{"figures", figures.size()}, {"pairs", pairs.size()}, {"mismatches", mismatches}}, text);
    return 0;
}

int run_annotate(const DataOptions & options) {
    const mmskin::CaptionRules rules =
        mmskin::CaptionRules::load(options.rules.empty() ? mmskin::CaptionRules::default_file() : fs::path(options.rules));
    std::vector<Record> records = mmskin::read_records(options.input, {"caption"});
    std::size_t with_age = 0, with_sex = 0, flagged = 0;
    for (Record & record : records) {
        const std::string caption = record["caption"].get<std::string>();
        const auto age = mmskin::extract_age(caption, rules);
        record["age"] = age ? Record{{"low", age->low}, {"high", age->high}, {"text", age->evidence}} : Record();
        const mmskin::Sex sex = mmskin::extract_sex(caption, rules);
        record["sex"] = sex == mmskin::Sex::NotStated ? Record() : Record(mmskin::sex_name(sex));
        record["flags"] = mmskin::removal_flags(caption, rules);
        with_age += age.has_value();
        with_sex += sex == mmskin::Sex::Male || sex == mmskin::Sex::Female;
        flagged += !record["flags"].empty();
    }
    mmskin::write_records(options.out, records);
    report(options, {{"records", records.size()}, {"with_age", with_age}, {"with_sex", with_sex}, {"flagged", flagged}},
           fmt::format("annotate: {} records -> '{}': age in {}, sex in {}, removal flags on {}\n", records.size(),
                       options.out, with_age, with_sex, flagged));
    return 0;
}

int run_filter(const DataOptions & options) {
    std::vector<Record> kept;
    ordered_json removed = ordered_json::array();
    const std::vector<Record> records = mmskin::read_records(options.input, {"image"});
    for (Record record : records) {
        const std::string image = record["image"].get<std::string>();
        const mmskin::ImageSize size = mmskin::read_image_size(image_path(options, image));
        record["width"] = size.width;
        record["height"] = size.height;
        std::string reason = mmskin::resolution_problem(size, options.min_size);
        if (reason.empty() && options.remove_flagged && record.contains("flags") && !record["flags"].empty()) {
            reason = "flagged: " + record["flags"][0].get<std::string>();
        }
        if (reason.empty()) {
            kept.push_back(std::move(record));
        } else {
            removed.push_back({{"image", image}, {"reason", reason}});
        }
    }
    mmskin::write_records(options.out, kept);
    std::string text = fmt::format("filter: {} records -> {} kept in '{}', {} removed\n", records.size(), kept.size(),
                                   options.out, removed.size());
    for (const auto & entry : removed) {
        text += fmt::format("  {}: {}\n", entry["image"].get<std::string>(), entry["reason"].get<std::string>());
    }
    report(options, {{"records", records.size()}, {"kept", kept.size()}, {"removed", removed}}, text);
    return 0;
}

ordered_json text_json(const mmskin::TextStatistics & s) {
    return {{"texts", s.texts},
            {"words", s.words},
            {"vocabulary", s.vocabulary},
            {"mean_words", s.mean_words},
            {"herdan_c", std::isnan(s.herdan_c) ? ordered_json() : ordered_json(s.herdan_c)}};
}

int run_stats(const DataOptions & options) {
    const auto statistics = mmskin::dataset_statistics(mmskin::read_records(options.input, {}));
    ordered_json all = ordered_json::array();
    std::string text = fmt::format("{:<14} {:>7} {:>7} {:>5} {:>5} {:>6} {:>7} {:>7} {:>8} {:>6} {:>8}\n", "modality",
                                   "records", "figures", "age", "sex", "QA", "caption", "answer", "vocab", "N",
                                   "Herdan C");
    for (const auto & s : statistics) {
        all.push_back({{"modality", s.modality}, {"records", s.records}, {"figures", s.figures},
                       {"with_age", s.with_age}, {"male", s.male}, {"female", s.female},
                       {"sex_unknown", s.sex_unknown}, {"qa_pairs", s.qa_pairs}, {"captions", text_json(s.captions)},
                       {"questions", text_json(s.questions)}, {"answers", text_json(s.answers)}});
        text += fmt::format("{:<14} {:>7} {:>7} {:>5} {:>5} {:>6} {:>7.2f} {:>7.2f} {:>8} {:>6} {:>8.4f}\n", s.modality,
                            s.records, s.figures, s.with_age, s.male + s.female, s.qa_pairs, s.captions.mean_words,
                            s.answers.mean_words, s.captions.vocabulary, s.captions.words, s.captions.herdan_c);
    }
    report(options, {{"modalities", all}},
           text + "(age, sex: records with one; caption, answer: mean words; vocab, N, Herdan's C = log|V| / log N "
                  "of the captions)\n");
    return 0;
}

// Each caption's turns from a local text model (a text-only Engine), filtered by paper 001's rules.
int run_vqa_generate(const DataOptions & options) {
    options.writer.validate();
    const mmskin::VqaWriterConfig config = mmskin::VqaWriterConfig::load(mmskin::VqaWriterConfig::default_file());
    std::vector<Record> records = mmskin::read_records(options.input, {"caption"});
    EngineParams params;
    params.model = options.model;
    params.threads = options.threads;
    Engine engine(params);
    std::vector<Record> rejected;
    std::vector<Record> questions;
    std::size_t kept = 0;
    for (Record & record : records) {
        const mmskin::WrittenTurns written =
            mmskin::write_turns(engine, record["caption"].get<std::string>(), config, options.writer);
        record["qa"] = ordered_json::array();
        for (const mmskin::VqaTurn & turn : written.turns.kept) {
            record["qa"].push_back({{"q", turn.question}, {"a", turn.answer}});
            questions.push_back({{"image", record.value("image", "")}, {"question", turn.question},
                                 {"answer", turn.answer}, {"modality", record.value("modality", "")}});
        }
        for (const mmskin::RejectedTurn & turn : written.turns.rejected) {
            rejected.push_back({{"image", record.value("image", "")}, {"reason", turn.reason},
                                {"q", turn.turn.question}, {"a", turn.turn.answer}});
        }
        kept += written.turns.kept.size();
    }
    mmskin::write_records(options.out, records);
    if (!options.questions.empty()) {
        mmskin::write_records(options.questions, questions);
    }
    if (!options.rejected.empty()) {
        mmskin::write_records(options.rejected, rejected);
    }
    std::string text = fmt::format("vqa-generate: {} captions -> {} turns kept in '{}', {} rejected\n", records.size(),
                                   kept, options.out, rejected.size());
    for (const Record & entry : rejected) {
        text += fmt::format("  {}: {}\n", entry["image"].get<std::string>(), entry["reason"].get<std::string>());
    }
    report(options, {{"captions", records.size()}, {"kept", kept}, {"rejected", rejected}}, text);
    return 0;
}

CLI::App * add_data_command(CLI::App & data, const std::shared_ptr<DataOptions> & options, const char * name,
                            const char * description, bool writes) {
    auto * app = data.add_subcommand(name, description);
    app->add_option("input", options->input, "JSON Lines file to read (docs/data-tools.md)")->required();
    if (writes) {
        app->add_option("--out", options->out, "JSON Lines file to write")->required();
    }
    app->add_flag("--json", options->json, "Print the report as JSON");
    return app;
}

}  // namespace

void register_data(CLI::App & root, std::vector<Command> & commands) {
    auto * data = root.add_subcommand("data", "Paper 001's (MM-Skin) data tools on JSON Lines files: caption "
                                              "splitting, demographics, filters, statistics (docs/data-tools.md)");
    data->require_subcommand(1);

    auto split = std::make_shared<DataOptions>();
    auto * app = add_data_command(*data, split, "split-captions",
                                  "Split multi-panel figure captions and pair them with the figure's images", true);
    app->add_option("--mismatches", split->mismatches, "JSON Lines file for the figures left unpaired, with the reason");
    commands.push_back({app, [split] { return run_split_captions(*split); }});

    auto annotate = std::make_shared<DataOptions>();
    app = add_data_command(*data, annotate, "annotate", "Add age, sex and the removal keyword flags read from captions",
                           true);
    app->add_option("--rules", annotate->rules, "Caption rules file (default: data/mmskin/caption_rules.json)");
    commands.push_back({app, [annotate] { return run_annotate(*annotate); }});

    auto filter = std::make_shared<DataOptions>();
    app = add_data_command(*data, filter, "filter",
                           "Leave out images under the minimum resolution (and, with --remove-flagged, flagged ones)",
                           true);
    app->add_option("--min-size", filter->min_size, "Smallest width and height in pixels (paper 001: 300)")
        ->capture_default_str();
    app->add_flag("--remove-flagged", filter->remove_flagged, "Also leave out records with removal flags (annotate)");
    commands.push_back({app, [filter] { return run_filter(*filter); }});

    auto stats = std::make_shared<DataOptions>();
    app = add_data_command(*data, stats, "stats",
                           "Counts per modality, demographics, average lengths, vocabulary and Herdan's C", false);
    commands.push_back({app, [stats] { return run_stats(*stats); }});

    auto vqa = std::make_shared<DataOptions>();
    app = add_data_command(*data, vqa, "vqa-generate",
                           "Write 2-4 question-answer turns per caption with a local text model, filtered by paper "
                           "001's rules",
                           true);
    app->add_option("--model,-m", vqa->model, "GGUF text model (any; no mmproj)")->required();
    app->add_option("--questions", vqa->questions,
                    "Also write the kept turns as eval --protocol skinvl-vqa questions (image, question, answer, "
                    "modality)");
    app->add_option("--rejected", vqa->rejected, "JSON Lines file of the rejected turns with their reasons");
    app->add_option("--max-tokens", vqa->writer.max_tokens, "Generated tokens at most per caption")->capture_default_str();
    app->add_option("--temperature", vqa->writer.temperature, "0: greedy")->capture_default_str();
    app->add_option("--seed", vqa->writer.seed, "Seed of sampled replies")->capture_default_str();
    app->add_option("--threads", vqa->threads, "CPU threads (0: every core)")->capture_default_str();
    commands.push_back({app, [vqa] { return run_vqa_generate(*vqa); }});
}

}  // namespace dermlens::cli
