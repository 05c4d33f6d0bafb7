#include "kb/names.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <numeric>
#include <utility>
#include <vector>

namespace dermlens::kb {
namespace {

// British -> American spellings of medical word parts, applied in this order to
// every word. Each left side occurs in no American word a condition name uses.
constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kSpellings{{
    {"naev", "nev"},        // naevus, naevi, naevoid
    {"haem", "hem"},        // haemangioma, haematoma, ischaemic
    {"aemia", "emia"},      // leukaemia, anaemia
    {"oedem", "edem"},      // oedema, lymphoedema
    {"rrhoe", "rrhe"},      // seborrhoeic, diarrhoea
    {"colour", "color"},
    {"tumour", "tumor"},
    {"paed", "ped"},        // paediatric
    {"coeliac", "celiac"},
    {"foet", "fet"},
    {"sulph", "sulf"},
    {"leuco", "leuko"},     // leucoplakia, leucocytoclastic
}};

// -ise -> -ize only after these stems (localised, keratinised, vascularised,
// sensitised): elsewhere -ise is often no verb suffix at all (raised, excised).
constexpr std::array<std::string_view, 4> kIzeStems{"al", "in", "ar", "it"};
constexpr std::array<std::string_view, 5> kIseEndings{"isation", "ising", "ised", "ises", "ise"};

// Words that end like plurals but are singular names.
constexpr std::array<std::string_view, 8> kInvariantWords{
    "scabies", "herpes", "rabies", "caries", "fungoides", "diabetes", "series", "species"};

// Latin and Greek plurals that the suffix rules would get wrong.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kIrregularPlurals{{
    {"nevi", "nevus"},
    {"lentigines", "lentigo"},
    {"comedones", "comedo"},
    {"verrucae", "verruca"},
    {"bullae", "bulla"},
}};

unsigned char lower(char c) {
    return static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(c)));
}

bool is_word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// Length of the apostrophe at text[i]: 1 for ', 3 for the UTF-8 curly quotes ‘ ’, 0 otherwise.
std::size_t apostrophe_length(std::string_view text, std::size_t i) {
    if (text[i] == '\'') {
        return 1;
    }
    const std::string_view three = text.substr(i, 3);
    return three == "\xE2\x80\x99" || three == "\xE2\x80\x98" ? 3 : 0;
}

// "Bowen's disease" -> "bowen disease": an s that ends the word after an apostrophe.
bool is_possessive_s(std::string_view text, std::size_t i) {
    return i < text.size() && lower(text[i]) == 's' && (i + 1 == text.size() || !is_word_byte(lower(text[i + 1])));
}

// Lower-cased words of `name`: apostrophes are dropped (with a possessive s after
// them), anything else that is no letter or digit separates words.
std::vector<std::string> split_words(std::string_view name) {
    std::vector<std::string> words(1);
    std::size_t i = 0;
    while (i < name.size()) {
        if (const std::size_t quote = apostrophe_length(name, i); quote > 0) {
            i += quote;
            i += is_possessive_s(name, i) ? 1 : 0;
            continue;
        }
        const unsigned char c = lower(name[i]);
        if (is_word_byte(c)) {
            words.back() += static_cast<char>(c);
        } else if (!words.back().empty()) {
            words.emplace_back();
        }
        ++i;
    }
    if (words.back().empty()) {
        words.pop_back();
    }
    return words;
}

void replace_all(std::string & word, std::string_view from, std::string_view to) {
    for (std::size_t at = word.find(from); at != std::string::npos; at = word.find(from, at + to.size())) {
        word.replace(at, from.size(), to);
    }
}

void americanize_ise(std::string & word) {
    for (const std::string_view ending : kIseEndings) {
        if (!word.ends_with(ending)) {
            continue;
        }
        const std::string_view stem = std::string_view(word).substr(0, word.size() - ending.size());
        const bool known_stem = std::any_of(kIzeStems.begin(), kIzeStems.end(),
                                            [&](std::string_view s) { return stem.ends_with(s); });
        if (stem.size() >= 3 && known_stem) {
            word[stem.size() + 1] = 'z';  // "is..." -> "iz..."
        }
        return;
    }
}

std::string americanize(std::string word) {
    // The oe of these compounds is no British spelling: American English writes them so too.
    if (word.starts_with("angioedem") || word.starts_with("leukoedem") || word.starts_with("leucoedem")) {
        replace_all(word, "leuco", "leuko");
        return word;
    }
    for (const auto & [british, american] : kSpellings) {
        replace_all(word, british, american);
    }
    americanize_ise(word);
    return word;
}

std::string singular_word(std::string_view word) {
    if (std::find(kInvariantWords.begin(), kInvariantWords.end(), word) != kInvariantWords.end()) {
        return std::string(word);
    }
    for (const auto & [plural, singular] : kIrregularPlurals) {
        if (word == plural) {
            return std::string(singular);
        }
    }
    const auto stem = [&](std::size_t drop) { return std::string(word.substr(0, word.size() - drop)); };
    if (word.size() <= 3 || word.ends_with("ss") || word.ends_with("us") || word.ends_with("is")) {
        return std::string(word);
    }
    if (word.ends_with("oses")) {
        return stem(2) + "is";  // keratoses -> keratosis
    }
    if (word.ends_with("ies")) {
        return stem(3) + "y";
    }
    for (const std::string_view sibilant : {"sses", "xes", "ches", "shes", "zes"}) {
        if (word.ends_with(sibilant)) {
            return stem(2);  // abscesses -> abscess, rashes -> rash
        }
    }
    return word.ends_with('s') ? stem(1) : std::string(word);
}

}  // namespace

std::string normalize_name(std::string_view name) {
    std::string normalized;
    for (const std::string & word : split_words(name)) {
        if (!normalized.empty()) {
            normalized += ' ';
        }
        normalized += americanize(word);
    }
    return normalized;
}

std::string singularize(std::string_view normalized) {
    const std::size_t last_space = normalized.rfind(' ');
    const std::size_t last_word = last_space == std::string_view::npos ? 0 : last_space + 1;
    return std::string(normalized.substr(0, last_word)) + singular_word(normalized.substr(last_word));
}

namespace {

constexpr std::size_t kWordBits = 64;

void set_masks(std::string_view pattern, std::array<std::uint64_t, 256> & masks) {
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        masks[static_cast<unsigned char>(pattern[i])] |= std::uint64_t{1} << i;
    }
}

void clear_masks(std::string_view pattern, std::array<std::uint64_t, 256> & masks) {
    for (const char c : pattern) {
        masks[static_cast<unsigned char>(c)] = 0;
    }
}

// The textbook dynamic programme, one row at a time, stopping once a whole row exceeds `limit`
// (every alignment passes through each row, and costs never decrease along it).
std::size_t row_by_row(std::string_view a, std::string_view b, std::size_t limit) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        std::size_t row_min = row[0];
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            diagonal = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
            row_min = std::min(row_min, row[j]);
        }
        if (row_min > limit) {
            return row_min;
        }
    }
    return row[b.size()];
}

}  // namespace

EditDistanceFrom::EditDistanceFrom(std::string_view from) : from_(from) {
    if (from_.size() <= kWordBits) {
        set_masks(from_, from_masks_);
    }
}

std::size_t EditDistanceFrom::within(std::string_view to, std::size_t limit) {
    const std::size_t longer = std::max(from_.size(), to.size());
    const std::size_t shorter = std::min(from_.size(), to.size());
    if (longer - shorter > limit) {
        return longer - shorter;  // a lower bound of the distance, already above the limit
    }
    if (shorter == 0) {
        return longer;
    }
    if (from_.size() <= kWordBits) {
        return bit_parallel(from_, from_masks_, to);
    }
    if (to.size() <= kWordBits) {
        set_masks(to, scratch_);
        const std::size_t distance = bit_parallel(to, scratch_, from_);
        clear_masks(to, scratch_);
        return distance;
    }
    return row_by_row(from_, to, limit);
}

// Myers's algorithm: the differences between neighbouring cells of one column of the dynamic
// programme (vertical +1 / -1 in pv / mv), advanced one byte of `text` at a time; `score` follows
// the bottom cell. The top row of the global distance grows by one per byte (the `| 1`).
std::size_t EditDistanceFrom::bit_parallel(std::string_view pattern, const ByteMasks & masks,
                                           std::string_view text) const {
    const std::uint64_t last = std::uint64_t{1} << (pattern.size() - 1);
    std::uint64_t pv = ~std::uint64_t{0};
    std::uint64_t mv = 0;
    std::size_t score = pattern.size();
    for (const char c : text) {
        const std::uint64_t eq = masks[static_cast<unsigned char>(c)];
        const std::uint64_t xv = eq | mv;
        const std::uint64_t xh = (((eq & pv) + pv) ^ pv) | eq;
        std::uint64_t ph = mv | ~(xh | pv);
        std::uint64_t mh = pv & xh;
        if (ph & last) {
            ++score;
        } else if (mh & last) {
            --score;
        }
        ph = (ph << 1) | 1;
        mh <<= 1;
        pv = mh | ~(xv | ph);
        mv = ph & xv;
    }
    return score;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    return EditDistanceFrom(a).within(b, std::max(a.size(), b.size()));
}

}  // namespace dermlens::kb
