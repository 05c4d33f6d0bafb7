#include "dermlens/kb/condition.h"

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

std::string Problem::to_string() const {
    return file.empty() ? message : file.string() + ": " + message;
}

}  // namespace dermlens::kb
