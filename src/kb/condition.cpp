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

namespace {

bool is_upper_or_digit(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

bool is_icd11_code(std::string_view code) {
    const bool stem = code.size() >= 4 && is_upper_or_digit(code[0]) && code[1] >= 'A' && code[1] <= 'Z' &&
                      is_digit(code[2]) && is_upper_or_digit(code[3]);
    if (!stem || code.size() == 4) {
        return stem;
    }
    const std::string_view tail = code.substr(5);
    return code[4] == '.' && !tail.empty() && tail.size() <= 2 &&
           std::all_of(tail.begin(), tail.end(), is_upper_or_digit);
}

bool is_icd10_code(std::string_view code) {
    const bool stem = code.size() >= 3 && code[0] >= 'A' && code[0] <= 'Z' && is_digit(code[1]) && is_digit(code[2]);
    return stem && (code.size() == 3 || (code.size() == 5 && code[3] == '.' && is_digit(code[4])));
}

std::string Problem::to_string() const {
    return file.empty() ? message : file.string() + ": " + message;
}

}  // namespace dermlens::kb
