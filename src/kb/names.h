// Normalisation of condition names, so that the spellings people write resolve
// to the same key: "Basal Cell Carcinoma." = "basal cell carcinoma",
// "Bowen's disease" = "bowen disease", "naevus" = "nevus", "melanomas" -> "melanoma".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
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

// Levenshtein distances from one string to many (the "did you mean" search over every known
// name), each bounded: a string further than `limit` costs little, since the length difference
// alone, or an early stop of the dynamic programme, may settle it. When the shorter of the two
// strings is at most 64 bytes (every name of the shipped knowledge base), the distance is
// computed with Myers's bit-parallel algorithm (Myers 1999, J. ACM 46(3); Hyyro 2001's form for
// the global distance): one 64-bit column per byte of the longer string.
class EditDistanceFrom {
public:
    explicit EditDistanceFrom(std::string_view from);

    // The distance from `from` to `to` when it is at most `limit`; otherwise some value above `limit`.
    std::size_t within(std::string_view to, std::size_t limit);

private:
    using ByteMasks = std::array<std::uint64_t, 256>;

    std::size_t bit_parallel(std::string_view pattern, const ByteMasks & masks, std::string_view text) const;

    std::string from_;
    ByteMasks from_masks_{};  // bit i of [c]: from_[i] == c (when from_ fits in 64 bytes)
    ByteMasks scratch_{};     // the same for a short `to`, cleared after each use
};

}  // namespace dermlens::kb
