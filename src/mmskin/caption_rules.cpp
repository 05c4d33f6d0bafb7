#include "mmskin/caption_rules.h"

#include "common/data_dir.h"
#include "common/text.h"
#include "dermlens/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>

namespace dermlens::mmskin {
namespace {

using nlohmann::json;

[[noreturn]] void bad_rules(const std::filesystem::path & file, const std::string & why) {
    throw Error(ErrorKind::InvalidInput, fmt::format("caption rules '{}': {}", file.string(), why), "rules");
}

std::vector<std::string> string_list(const json & node, const std::filesystem::path & file, const std::string & field) {
    if (!node.is_array() || node.empty()) {
        bad_rules(file, fmt::format("'{}' must be a list of words", field));
    }
    std::vector<std::string> words;
    for (const json & word : node) {
        if (!word.is_string() || caption_words(word.get<std::string>()).empty()) {
            bad_rules(file, fmt::format("'{}' holds something that is not a word", field));
        }
        words.push_back(word.get<std::string>());
    }
    return words;
}

const std::string * first_found(const std::vector<std::string> & words, const std::vector<std::string> & phrases) {
    for (const std::string & phrase : phrases) {
        if (contains_phrase(words, caption_words(phrase))) {
            return &phrase;
        }
    }
    return nullptr;
}

struct NumericPattern {
    std::regex pattern;
    double years_per_unit;  // 0: the unit is the second group
};

double unit_years(const std::string & unit) {
    if (unit.rfind("month", 0) == 0) {
        return 1.0 / 12.0;
    }
    if (unit.rfind("week", 0) == 0) {
        return 7.0 / 365.25;
    }
    if (unit.rfind("day", 0) == 0) {
        return 1.0 / 365.25;
    }
    return 1.0;
}

// The stated-age patterns, on lower-cased text; group 1 the number, group 2 the unit when any.
const std::vector<std::regex> & numeric_patterns() {
    static const std::vector<std::regex> patterns{
        std::regex(R"re(\b(\d{1,3})[\s-]?(years?|yrs?|months?|weeks?|days?)[\s-]?old\b)re"),
        std::regex(R"re(\b(\d{1,3})\s+(years?)\s+of\s+age\b)re"),
        std::regex(R"re(\baged\s+(\d{1,3})\b())re"),
        std::regex(R"re(\b(\d{1,3})\s?(?:y/o|yo\b|y\.o\.)())re"),
    };
    return patterns;
}

std::optional<AgeBand> stated_age(const std::string & lower) {
    std::optional<AgeBand> best;
    std::size_t best_position = std::string::npos;
    for (const std::regex & pattern : numeric_patterns()) {
        std::smatch match;
        if (std::regex_search(lower, match, pattern) && static_cast<std::size_t>(match.position(0)) < best_position) {
            const double years = std::stod(match[1].str()) * unit_years(match[2].str());
            if (years <= 120) {
                best_position = static_cast<std::size_t>(match.position(0));
                best = AgeBand{years, years, match[0].str()};
            }
        }
    }
    return best;
}

std::optional<AgeBand> decade_age(const std::string & lower) {
    static const std::vector<std::string> decade_words{"twenties", "thirties", "forties", "fifties",
                                                       "sixties",  "seventies", "eighties", "nineties"};
    static const std::regex pattern(
        R"(\bin\s+(?:his|her|their|the)\s+(early|mid|late)?[\s-]*(?:(\d)0'?s\b|(twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)\b))");
    std::smatch match;
    if (!std::regex_search(lower, match, pattern)) {
        return std::nullopt;
    }
    double decade = 0;
    if (match[2].matched) {
        decade = 10.0 * std::stod(match[2].str());
    } else {
        const auto found = std::find(decade_words.begin(), decade_words.end(), match[3].str());
        decade = 20.0 + 10.0 * static_cast<double>(found - decade_words.begin());
    }
    const std::string part = match[1].str();
    const double low = decade + (part == "mid" ? 4 : part == "late" ? 7 : 0);
    const double high = decade + (part == "early" ? 3 : part == "mid" ? 6 : 9);
    return AgeBand{low, high, match[0].str()};
}

}  // namespace

std::vector<std::string> caption_words(std::string_view text) {
    std::vector<std::string> words;
    std::string current;
    for (const char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            current += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else if (!current.empty()) {
            words.push_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) {
        words.push_back(std::move(current));
    }
    return words;
}

bool contains_phrase(const std::vector<std::string> & words, const std::vector<std::string> & phrase) {
    return !phrase.empty() && std::search(words.begin(), words.end(), phrase.begin(), phrase.end()) != words.end();
}

std::filesystem::path CaptionRules::default_file() { return data_dir() / "mmskin" / "caption_rules.json"; }

CaptionRules CaptionRules::load(const std::filesystem::path & file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        bad_rules(file, "cannot read it (set DERMLENS_DATA_DIR to dermlens's data/ folder)");
    }
    const json root = json::parse(in, nullptr, false);
    if (!root.is_object() || !root.contains("sex") || !root.contains("age_words") || !root.contains("removal_flags")) {
        bad_rules(file, "not a JSON object with 'sex', 'age_words' and 'removal_flags'");
    }
    CaptionRules rules;
    const json & sex = root["sex"];
    rules.male_nouns = string_list(sex.value("male_nouns", json()), file, "sex.male_nouns");
    rules.female_nouns = string_list(sex.value("female_nouns", json()), file, "sex.female_nouns");
    rules.male_pronouns = string_list(sex.value("male_pronouns", json()), file, "sex.male_pronouns");
    rules.female_pronouns = string_list(sex.value("female_pronouns", json()), file, "sex.female_pronouns");
    for (const json & band : root["age_words"]) {
        if (!band.is_object() || !band.contains("low") || !band.contains("high") || !band["low"].is_number() ||
            !band["high"].is_number() || band["low"].get<double>() > band["high"].get<double>()) {
            bad_rules(file, "each of 'age_words' needs 'words' and numbers 'low' <= 'high'");
        }
        rules.age_words.push_back(
            {string_list(band.value("words", json()), file, "age_words.words"), band["low"], band["high"]});
    }
    if (!root["removal_flags"].is_object()) {
        bad_rules(file, "'removal_flags' must map each category to its words");
    }
    for (const auto & [category, words] : root["removal_flags"].items()) {
        rules.removal_flags.emplace_back(category, string_list(words, file, "removal_flags." + category));
    }
    return rules;
}

std::optional<AgeBand> extract_age(std::string_view caption, const CaptionRules & rules) {
    const std::string lower = ascii_lower(caption);
    if (auto age = stated_age(lower)) {
        return age;
    }
    if (auto age = decade_age(lower)) {
        return age;
    }
    const std::vector<std::string> words = caption_words(caption);
    for (const AgeWordBand & band : rules.age_words) {
        if (const std::string * found = first_found(words, band.phrases)) {
            return AgeBand{band.low, band.high, *found};
        }
    }
    return std::nullopt;
}

const char * sex_name(Sex sex) {
    switch (sex) {
        case Sex::Male: return "male";
        case Sex::Female: return "female";
        case Sex::Unknown: return "unknown";
        case Sex::NotStated: break;
    }
    return "";
}

Sex extract_sex(std::string_view caption, const CaptionRules & rules) {
    const std::vector<std::string> words = caption_words(caption);
    const auto decide = [&](const std::vector<std::string> & male, const std::vector<std::string> & female) {
        const bool is_male = first_found(words, male) != nullptr;
        const bool is_female = first_found(words, female) != nullptr;
        return is_male && is_female ? Sex::Unknown : is_male ? Sex::Male : is_female ? Sex::Female : Sex::NotStated;
    };
    const Sex by_nouns = decide(rules.male_nouns, rules.female_nouns);
    return by_nouns != Sex::NotStated ? by_nouns : decide(rules.male_pronouns, rules.female_pronouns);
}

std::vector<std::string> removal_flags(std::string_view caption, const CaptionRules & rules) {
    const std::vector<std::string> words = caption_words(caption);
    std::vector<std::string> flags;
    for (const auto & [category, phrases] : rules.removal_flags) {
        if (const std::string * found = first_found(words, phrases)) {
            flags.push_back(category + ": " + *found);
        }
    }
    return flags;
}

}  // namespace dermlens::mmskin
