// Paper 001 (MM-Skin) table 1, table 2 and fig. 3: images, pairs and QA per modality, the
// demographic coverage (captions with a sex, with an age), average lengths, the vocabulary
// size and lexical diversity. The paper prints Herdan's C as "|V| / log N"; the standard
// definition, used here, is C = log|V| / log N (../shared/design/papers-spec.md C.3): the
// numerator's log was most likely lost in extraction. Words are caption_words(): lower-cased
// runs of letters and digits, split at whitespace and punctuation.
#pragma once

#include "mmskin/records.h"

#include <cstddef>
#include <string>
#include <vector>

namespace dermlens::mmskin {

struct TextStatistics {
    std::size_t texts = 0;
    std::size_t words = 0;       // N
    std::size_t vocabulary = 0;  // |V|: distinct words
    double mean_words = 0;       // per text
    double herdan_c = 0;         // log|V| / log N; NaN for N < 2 or an empty vocabulary
};

TextStatistics text_statistics(const std::vector<std::string> & texts);

struct ModalityStatistics {
    std::string modality;  // "all" for the whole set; "unspecified" for records without one
    std::size_t records = 0;
    std::size_t figures = 0;  // distinct "figure" values
    std::size_t with_age = 0;
    std::size_t male = 0, female = 0, sex_unknown = 0;  // "unknown": both sexes named
    std::size_t qa_pairs = 0;
    TextStatistics captions, questions, answers;
};

// Per modality in name order, then "all". Captions from "caption"; QA from "qa" lists of
// {"q", "a"} and from "question"/"answer" fields (the VQA protocol's files).
std::vector<ModalityStatistics> dataset_statistics(const std::vector<Record> & records);

}  // namespace dermlens::mmskin
