// The public dermlens::ClinicalContext (dermlens/diagnosis.h): its checks and its prompt line.
#include "pipeline/clinical_context.h"

#include "common/text.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>
#include <vector>

namespace dermlens {
namespace {

constexpr std::size_t kMaxFreeText = 200;

void validate_free_text(std::string_view field, const std::string & value) {
    if (value.size() > kMaxFreeText) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("clinical context {} '{}…': longer than {} characters", field, value.substr(0, 40),
                                kMaxFreeText));
    }
    if (std::any_of(value.begin(), value.end(), [](unsigned char c) { return std::iscntrl(c) != 0; })) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("clinical context {} '{}': holds a line break or another control character", field,
                                value));
    }
}

std::string_view roman(int fitzpatrick) {
    constexpr std::array<std::string_view, 6> numerals{"I", "II", "III", "IV", "V", "VI"};
    return numerals.at(static_cast<std::size_t>(fitzpatrick - 1));
}

// "itching." would end the line with ".." after the sentence's own full stop.
std::string_view without_final_stop(std::string_view text) {
    while (!text.empty() && (text.back() == '.' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    return text;
}

}  // namespace

bool ClinicalContext::empty() const {
    return !age && sex.empty() && site.empty() && history.empty() && !fitzpatrick;
}

void ClinicalContext::validate() const {
    if (age && (*age < 0 || *age > 120)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("clinical context age {}: expected 0 to 120 years", *age));
    }
    if (fitzpatrick && (*fitzpatrick < 1 || *fitzpatrick > 6)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("clinical context Fitzpatrick skin type {}: expected 1 to 6", *fitzpatrick));
    }
    if (const auto s = ascii_lower(sex); !s.empty() && s != "female" && s != "male" && s != "other") {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("clinical context sex '{}': expected female, male or other", sex));
    }
    validate_free_text("site", site);
    validate_free_text("history", history);
}

std::string ClinicalContext::text() const {
    if (empty()) {
        return {};
    }
    const std::string s = ascii_lower(sex);
    std::vector<std::string> parts;
    if (age && (s == "female" || s == "male")) {
        parts.push_back(fmt::format("{}-year-old {}", *age, s));
    } else {
        if (age) {
            parts.push_back(fmt::format("{}-year-old", *age));
        }
        if (!s.empty()) {
            parts.push_back(s == "other" ? "sex: other" : s);
        }
    }
    if (!site.empty()) {
        parts.push_back(fmt::format("site: {}", site));
    }
    if (const auto h = without_final_stop(history); !h.empty()) {
        parts.push_back(fmt::format("history: {}", h));
    }
    if (fitzpatrick) {
        parts.push_back(fmt::format("Fitzpatrick skin type {}", roman(*fitzpatrick)));
    }
    return fmt::format("Patient: {}.", fmt::join(parts, "; "));
}

}  // namespace dermlens
