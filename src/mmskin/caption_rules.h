// Paper 001 (MM-Skin, 3.1.1): "Demographic attributes such as age and gender are extracted by
// matching relevant keywords in captions using regular expression techniques", and images of
// genitalia, identifiable features (tattoos), annotations (drawn arrows) or full faces "were
// removed". The paper gives no rules; dermlens's (../shared/design/papers-spec.md C.1), with the
// word lists in data/mmskin/caption_rules.json (docs/data-tools.md):
//
//  - age: the earliest of "45-year-old", "45 years old", "45 years of age", "aged 45", "45 y/o",
//    "45yo", and "6-month-old" / "3-week-old" / "10-day-old" converted to years; else a decade,
//    "in her 40s" (40-49; "early" 40-43, "mid" 44-46, "late" 47-49; "forties" alike); else an
//    age word of the data file as a band (infant 0-1, adolescent 13-19, elderly 65-120 …);
//  - sex: nouns (man, woman, boy …) decide; pronouns (he, she …) only when no noun matched;
//    "unknown" when both sexes match;
//  - removal flags: the categories whose words or phrases occur (whole words, any case).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dermlens::mmskin {

struct AgeWordBand {
    std::vector<std::string> phrases;
    double low = 0;
    double high = 0;
};

struct CaptionRules {
    std::vector<std::string> male_nouns, female_nouns, male_pronouns, female_pronouns;
    std::vector<AgeWordBand> age_words;
    std::vector<std::pair<std::string, std::vector<std::string>>> removal_flags;  // category, phrases

    // Reads the rules; throws Error(InvalidInput) naming the file and the field that is missing or wrong.
    static CaptionRules load(const std::filesystem::path & file);
    static std::filesystem::path default_file();  // <data_dir()>/mmskin/caption_rules.json
};

struct AgeBand {
    double low = 0;   // years
    double high = 0;  // years; == low for a stated age
    std::string evidence;  // the words it was read from
};

std::optional<AgeBand> extract_age(std::string_view caption, const CaptionRules & rules);

enum class Sex { NotStated, Male, Female, Unknown };
const char * sex_name(Sex sex);  // "", "male", "female", "unknown"

Sex extract_sex(std::string_view caption, const CaptionRules & rules);

// The removal categories the caption has words of, with the first word found: "genitalia: scrotal".
std::vector<std::string> removal_flags(std::string_view caption, const CaptionRules & rules);

// Lower-cased runs of ASCII letters and digits (other bytes separate words too).
std::vector<std::string> caption_words(std::string_view text);

// Whether the word sequence `phrase` (caption_words of a word or phrase) occurs in `words`.
bool contains_phrase(const std::vector<std::string> & words, const std::vector<std::string> & phrase);

}  // namespace dermlens::mmskin
