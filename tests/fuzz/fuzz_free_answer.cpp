// Harness: grading a free diagnosis against the truth through the knowledge base
// (dermlens/answers.h grade_diagnosis, paper 003's clinical grading): name normalisation,
// synonyms, clinical codes, one-typo matching, taxonomy relations. The first byte picks the
// truth among a label set's labels; the rest is what the model wrote.
#include "fuzz_kb.h"
#include "fuzz_support.h"

#include "dermlens/answers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const auto & kb = dermlens::fuzz::shipped_kb();
    const auto & labels = kb.label_set("ham10000").labels;
    const std::string truth = labels[data[0] % labels.size()].label;
    const std::string predicted(dermlens::fuzz::as_text(data + 1, size - 1));
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto graded = dermlens::grade_diagnosis(kb, predicted, truth, "ham10000");
        if (graded.correct && !graded.condition) {
            std::abort();  // a correct grade names the condition it matched
        }
    });
    return 0;
}
