// The Porter stemmer exactly as NLTK 3.8's PorterStemmer in its default NLTK_EXTENSIONS mode
// (nltk/stem/porter.py): Porter (1980) plus NLTK's irregular forms, its "ies"/"ied" rules for
// four-letter words, the "alli", "fulli" and "logi" rules of step 2 and the two-letter cvc rule.
// METEOR's stem stage (text_metrics.h) must stem as NLTK does for the scores to agree.
// Words are lower-cased first (ASCII letters only; other bytes are kept and count as consonants,
// so non-ASCII words may stem differently from NLTK, which lower-cases Unicode).
#pragma once

#include <string>
#include <string_view>

namespace dermlens::metrics {

std::string porter_stem(std::string_view word);

}  // namespace dermlens::metrics
