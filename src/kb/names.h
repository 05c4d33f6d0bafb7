// Normalisation of condition names, so that the spellings people write resolve
// to the same key: "Basal Cell Carcinoma." = "basal cell carcinoma",
// "Bowen's disease" = "bowen disease", "naevus" = "nevus", "melanomas" -> "melanoma".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dermlens::kb {

// Lower case (ASCII), possessive 's dropped, every other character that is not a
// letter or digit turned into a single space, British spellings rewritten to
// American ones (naevus -> nevus, haemangioma -> hemangioma, localised -> localized).
// Bytes of non-ASCII characters are kept as letters.
std::string normalize_name(std::string_view name);

// The singular of a normalised name: its last word singularised by simple English
// rules (melanomas -> melanoma, keratoses -> keratosis, nevi -> nevus), leaving
// words that only look plural (psoriasis, scabies, herpes, fungoides) alone.
std::string singularize(std::string_view normalized);

// Levenshtein distance between two strings, counted in bytes.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace dermlens::kb
