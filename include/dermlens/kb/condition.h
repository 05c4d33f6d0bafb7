// The records of the knowledge base, as read from data/kb/ (docs/kb-schema.md).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::kb {

enum class Malignancy { Benign, Malignant, Precancerous };

// "benign", "malignant", "precancerous": the spelling of the files.
std::string_view malignancy_name(Malignancy malignancy);
// The inverse of malignancy_name; std::nullopt for any other text.
std::optional<Malignancy> parse_malignancy(std::string_view text);

// ICD-11 MMS stem code: a digit or letter, a letter, a digit, a digit or letter ("2C30", "EA90",
// "1C1G"), then optionally a dot and one or two digits or letters ("4A40.0", "EA90.5Y"). ICD-11
// never uses the letters I and O (they read as 1 and 0), and chapter X holds extension codes,
// which qualify a stem code and never stand alone: neither is a stem code.
bool is_icd11_code(std::string_view code);
// WHO ICD-10: a letter and two digits ("C43"), then optionally a dot and one digit ("L40.0").
bool is_icd10_code(std::string_view code);

// How a recorded code relates to its condition. Exact: the code's category is this condition (its
// title or an inclusion term names it), so the code identifies the condition. Broader: the code is
// the category a coder would record for it, but it names something wider (a parent category, a
// residual "other specified" category): several conditions may share it, and it identifies none.
enum class CodeMatch { Exact, Broader };

// "exact", "broader": the spelling of the files.
std::string_view code_match_name(CodeMatch match);
// The inverse of code_match_name; std::nullopt for any other text.
std::optional<CodeMatch> parse_code_match(std::string_view text);

// The five visual criteria of paper 000, one clinical sentence each.
struct Description {
    std::string location;
    std::string lesion_type;
    std::string shape_border;
    std::string colour;
    std::string texture;
};

struct Condition {
    std::string id;
    std::string name;
    std::string parent;  // empty for the root
    std::vector<std::string> synonyms;
    std::optional<Malignancy> malignancy;  // as set on this node; KnowledgeBase::malignancy() inherits
    std::optional<bool> infectious;        // as set on this node; KnowledgeBase::infectious() inherits
    std::string icd11;                     // ICD-11 MMS code ("2C30"); empty when none is recorded
    CodeMatch icd11_match = CodeMatch::Exact;
    // Why no ICD-11 code is recorded ("family node of the taxonomy; its members are coded"); empty
    // when icd11 is set, and for a condition nobody has looked at yet (`kb check` lists those).
    std::string icd11_absent;
    std::string icd10;                     // WHO ICD-10 code ("C43"); empty when none is recorded
    CodeMatch icd10_match = CodeMatch::Exact;
    std::optional<Description> description;
    std::filesystem::path file;  // the file that defined it (the last overlay that did)
};

// An undirected differential-diagnosis edge, as listed in a ddx.json.
struct DdxEdge {
    std::string first;
    std::string second;
    std::filesystem::path file;
    std::size_t index = 0;  // position in that file's "edges"
};

struct Label {
    std::string label;      // the dataset's own string
    std::string condition;  // condition id
    // Another label of the same set that deliberately maps to the same condition (a dataset
    // that spells one condition two ways, or splits it by stage); empty for most labels.
    std::string same_condition_as;
};

struct LabelSet {
    std::string name;
    std::string title;
    std::string source;
    bool described = false;  // every mapped condition must have a description
    std::vector<Label> labels;  // in the dataset's class order
    std::filesystem::path file;
};

// One thing `check()` found wrong, with the file it is in (empty when it concerns no single file).
struct Problem {
    std::filesystem::path file;
    std::string message;

    std::string to_string() const;  // "<file>: <message>"
};

}  // namespace dermlens::kb
