#include "mmskin/vqa_writer.h"

#include "common/data_dir.h"
#include "dermlens/error.h"
#include "mmskin/caption_rules.h"
#include "pipeline/data_files.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>

namespace dermlens::mmskin {
namespace {

using nlohmann::json;

[[noreturn]] void bad_config(const std::filesystem::path & file, const std::string & why) {
    throw Error(ErrorKind::InvalidInput, fmt::format("VQA writer settings '{}': {}", file.string(), why), "vqa_writer");
}

std::set<std::string> numbers_in(std::string_view text) {
    std::set<std::string> numbers;
    std::string current;
    for (const char c : text) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            current += c;
        } else if (!current.empty()) {
            numbers.insert(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) {
        numbers.insert(current);
    }
    return numbers;
}

// The names (as word sequences) of every knowledge-base condition below the top-level
// categories: "melanoma", "basal cell carcinoma", … — the diagnoses a turn must not add.
std::vector<std::pair<std::string, std::vector<std::vector<std::string>>>> diagnosis_names(const kb::KnowledgeBase & kb) {
    std::vector<std::pair<std::string, std::vector<std::vector<std::string>>>> names;
    for (const std::string & id : kb.condition_ids()) {
        if (kb.depth(id) < 2) {
            continue;
        }
        const kb::Condition & condition = kb.condition(id);
        std::vector<std::vector<std::string>> forms{caption_words(condition.name)};
        for (const std::string & synonym : condition.synonyms) {
            forms.push_back(caption_words(synonym));
        }
        names.emplace_back(id, std::move(forms));
    }
    return names;
}

// The first reason the turn breaks a rule, or "".
std::string rule_broken(const VqaTurn & turn, const std::vector<std::string> & caption_words_list,
                        const std::set<std::string> & caption_numbers, const VqaWriterConfig & config,
                        const std::vector<std::pair<std::string, std::vector<std::vector<std::string>>>> & diagnoses) {
    const std::string text = turn.question + " " + turn.answer;
    const std::vector<std::string> words = caption_words(text);
    for (const std::string & forbidden : config.forbidden_words) {
        if (contains_phrase(words, caption_words(forbidden))) {
            return fmt::format("forbidden word '{}'", forbidden);
        }
    }
    for (const std::string & number : numbers_in(text)) {
        if (!caption_numbers.count(number)) {
            return fmt::format("number {} not in the caption", number);
        }
    }
    for (const auto & [id, forms] : diagnoses) {
        const auto in_turn = std::find_if(forms.begin(), forms.end(), [&](const auto & f) { return contains_phrase(words, f); });
        if (in_turn != forms.end() &&
            std::none_of(forms.begin(), forms.end(), [&](const auto & f) { return contains_phrase(caption_words_list, f); })) {
            std::string name;
            for (const std::string & word : *in_turn) {
                name += (name.empty() ? "" : " ") + word;
            }
            return fmt::format("diagnosis '{}' not in the caption", name);
        }
    }
    const std::size_t answer_words = caption_words(turn.answer).size();
    if (answer_words > config.max_answer_words) {
        return fmt::format("answer of {} words, over {}", answer_words, config.max_answer_words);
    }
    return "";
}

}  // namespace

std::filesystem::path VqaWriterConfig::default_file() { return data_dir() / "mmskin" / "vqa_writer.json"; }

VqaWriterConfig VqaWriterConfig::load(const std::filesystem::path & file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        bad_config(file, "cannot read it (set DERMLENS_DATA_DIR to dermlens's data/ folder)");
    }
    const json root = json::parse(in, nullptr, false);
    if (!root.is_object()) {
        bad_config(file, "not a JSON object");
    }
    VqaWriterConfig config;
    try {
        for (const json & shot : root.at("few_shot")) {
            config.few_shot.push_back({shot.at("context").get<std::string>(), shot.at("response").get<std::string>()});
            parse_turns(config.few_shot.back().response);
        }
        config.forbidden_words = root.at("forbidden_words").get<std::vector<std::string>>();
        config.max_answer_words = root.at("max_answer_words").get<std::size_t>();
    } catch (const json::exception & e) {
        bad_config(file, fmt::format("needs 'few_shot' [{{context, response}}], 'forbidden_words' and "
                                     "'max_answer_words' ({})",
                                     e.what()));
    } catch (const Error & e) {
        bad_config(file, fmt::format("a few-shot response: {}", e.what()));
    }
    return config;
}

std::vector<VqaTurn> parse_turns(std::string_view reply) {
    const json turns = json::parse(reply, nullptr, false);
    if (!turns.is_array()) {
        throw Error(ErrorKind::InvalidInput, "VQA reply: not a JSON list of turns", "reply");
    }
    std::vector<VqaTurn> out;
    for (const json & turn : turns) {
        if (!turn.is_object() || !turn.contains("q") || !turn.contains("a") || !turn["q"].is_string() ||
            !turn["a"].is_string()) {
            throw Error(ErrorKind::InvalidInput, "VQA reply: a turn is not {\"q\": text, \"a\": text}", "reply");
        }
        out.push_back({turn["q"].get<std::string>(), turn["a"].get<std::string>()});
    }
    return out;
}

FilteredTurns filter_turns(const std::vector<VqaTurn> & turns, std::string_view caption, const VqaWriterConfig & config,
                           const kb::KnowledgeBase & kb) {
    const std::vector<std::string> words = caption_words(caption);
    const std::set<std::string> numbers = numbers_in(caption);
    const auto diagnoses = diagnosis_names(kb);
    FilteredTurns filtered;
    for (const VqaTurn & turn : turns) {
        std::string reason = rule_broken(turn, words, numbers, config, diagnoses);
        if (reason.empty()) {
            filtered.kept.push_back(turn);
        } else {
            filtered.rejected.push_back({turn, std::move(reason)});
        }
    }
    return filtered;
}

void VqaWriterParams::validate() const {
    if (max_tokens < 16) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("max_tokens {}: 16 or more for two turns", max_tokens),
                    "max_tokens");
    }
    if (!(temperature >= 0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("temperature {}: must be 0 or more", temperature),
                    "temperature");
    }
}

GenerateRequest vqa_request(std::string_view caption, const VqaWriterConfig & config, const VqaWriterParams & params) {
    params.validate();
    GenerateRequest request;
    request.messages.push_back({"system", pipeline::read_prompt("mmskin-vqa-system")});
    for (const FewShot & shot : config.few_shot) {
        request.messages.push_back({"user", shot.context});
        request.messages.push_back({"assistant", shot.response});
    }
    request.messages.push_back({"user", std::string(caption)});
    request.grammar = pipeline::read_grammar("mmskin-vqa");
    request.max_tokens = params.max_tokens;
    request.temperature = params.temperature;
    request.seed = params.seed;
    return request;
}

WrittenTurns write_turns(Engine & engine, std::string_view caption, const VqaWriterConfig & config,
                         const VqaWriterParams & params) {
    const GeneratedText reply = engine.generate(vqa_request(caption, config, params));
    WrittenTurns written;
    written.reply = reply.text;
    written.finish_reason = reply.finish_reason;
    try {
        written.turns = filter_turns(parse_turns(reply.text), caption, config, engine.kb());
    } catch (const Error & e) {
        written.turns.rejected.push_back({{"", ""}, fmt::format("reply not parsed ({}): {}", reply.finish_reason, e.what())});
    }
    return written;
}

}  // namespace dermlens::mmskin
