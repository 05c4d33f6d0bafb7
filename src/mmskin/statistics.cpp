#include "mmskin/statistics.h"

#include "mmskin/caption_rules.h"

#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace dermlens::mmskin {
namespace {

struct Collector {
    ModalityStatistics statistics;
    std::set<std::string> figures;
    std::vector<std::string> captions, questions, answers;

    void add(const Record & record) {
        ++statistics.records;
        if (record.contains("figure") && record["figure"].is_string()) {
            figures.insert(record["figure"].get<std::string>());
        }
        if (record.contains("age") && record["age"].is_object()) {
            ++statistics.with_age;
        }
        const std::string sex = record.contains("sex") && record["sex"].is_string() ? record["sex"].get<std::string>() : "";
        statistics.male += sex == "male";
        statistics.female += sex == "female";
        statistics.sex_unknown += sex == "unknown";
        if (record.contains("caption") && record["caption"].is_string()) {
            captions.push_back(record["caption"].get<std::string>());
        }
        if (record.contains("qa") && record["qa"].is_array()) {
            for (const Record & turn : record["qa"]) {
                add_qa(turn.value("q", ""), turn.value("a", ""));
            }
        }
        if (record.contains("question") && record["question"].is_string() && record.contains("answer") &&
            record["answer"].is_string()) {
            add_qa(record["question"].get<std::string>(), record["answer"].get<std::string>());
        }
    }

    void add_qa(std::string question, std::string answer) {
        ++statistics.qa_pairs;
        questions.push_back(std::move(question));
        answers.push_back(std::move(answer));
    }

    ModalityStatistics finish() {
        statistics.figures = figures.size();
        statistics.captions = text_statistics(captions);
        statistics.questions = text_statistics(questions);
        statistics.answers = text_statistics(answers);
        return statistics;
    }
};

}  // namespace

TextStatistics text_statistics(const std::vector<std::string> & texts) {
    TextStatistics statistics;
    statistics.texts = texts.size();
    std::set<std::string> vocabulary;
    for (const std::string & text : texts) {
        const std::vector<std::string> words = caption_words(text);
        statistics.words += words.size();
        vocabulary.insert(words.begin(), words.end());
    }
    statistics.vocabulary = vocabulary.size();
    statistics.mean_words = texts.empty() ? 0.0 : static_cast<double>(statistics.words) / static_cast<double>(texts.size());
    statistics.herdan_c = statistics.words < 2 || vocabulary.empty()
                              ? std::numeric_limits<double>::quiet_NaN()
                              : std::log(static_cast<double>(statistics.vocabulary)) /
                                    std::log(static_cast<double>(statistics.words));
    return statistics;
}

std::vector<ModalityStatistics> dataset_statistics(const std::vector<Record> & records) {
    std::map<std::string, Collector> by_modality;
    Collector all;
    all.statistics.modality = "all";
    for (const Record & record : records) {
        const std::string modality = record.contains("modality") && record["modality"].is_string() &&
                                             !record["modality"].get<std::string>().empty()
                                         ? record["modality"].get<std::string>()
                                         : "unspecified";
        Collector & collector = by_modality[modality];
        collector.statistics.modality = modality;
        collector.add(record);
        all.add(record);
    }
    std::vector<ModalityStatistics> result;
    for (auto & [modality, collector] : by_modality) {
        result.push_back(collector.finish());
    }
    result.push_back(all.finish());
    return result;
}

}  // namespace dermlens::mmskin
