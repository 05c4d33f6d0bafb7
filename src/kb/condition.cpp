#include "dermlens/kb/condition.h"

#include <algorithm>

namespace dermlens::kb {

std::string_view malignancy_name(Malignancy malignancy) {
    switch (malignancy) {
        case Malignancy::Benign: return "benign";
        case Malignancy::Malignant: return "malignant";
        case Malignancy::Precancerous: return "precancerous";
    }
    return "unknown";
}

std::optional<Malignancy> parse_malignancy(std::string_view text) {
    for (const Malignancy malignancy : {Malignancy::Benign, Malignancy::Malignant, Malignancy::Precancerous}) {
        if (text == malignancy_name(malignancy)) {
            return malignancy;
        }
    }
    return std::nullopt;
}

std::string_view code_match_name(CodeMatch match) {
    return match == CodeMatch::Exact ? "exact" : "broader";
}

std::optional<CodeMatch> parse_code_match(std::string_view text) {
    for (const CodeMatch match : {CodeMatch::Exact, CodeMatch::Broader}) {
        if (text == code_match_name(match)) {
            return match;
        }
    }
    return std::nullopt;
}

namespace {

bool is_upper_or_digit(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The characters of an ICD-11 code: digits and capitals but I and O.
bool is_icd11_char(char c) {
    return is_upper_or_digit(c) && c != 'I' && c != 'O';
}

bool is_icd11_letter(char c) {
    return c >= 'A' && c <= 'Z' && is_icd11_char(c);
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

bool is_icd11_code(std::string_view code) {
    const bool stem = code.size() >= 4 && is_icd11_char(code[0]) && code[0] != 'X' && is_icd11_letter(code[1]) &&
                      is_digit(code[2]) && is_icd11_char(code[3]);
    if (!stem || code.size() == 4) {
        return stem;
    }
    const std::string_view tail = code.substr(5);
    return code[4] == '.' && !tail.empty() && tail.size() <= 2 && std::all_of(tail.begin(), tail.end(), is_icd11_char);
}

bool is_icd10_code(std::string_view code) {
    const bool stem = code.size() >= 3 && code[0] >= 'A' && code[0] <= 'Z' && is_digit(code[1]) && is_digit(code[2]);
    return stem && (code.size() == 3 || (code.size() == 5 && code[3] == '.' && is_digit(code[4])));
}

std::string Problem::to_string() const {
    return file.empty() ? message : file.string() + ": " + message;
}

}  // namespace dermlens::kb
