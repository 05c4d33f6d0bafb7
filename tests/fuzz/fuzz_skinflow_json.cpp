// Harness: SkinFlow's <answer>{"topK_diseases": [...]}</answer> reply (dermlens/answers.h
// parse_skinflow_diseases; JSON with // comments, a missing closing tag), each disease name
// then graded against a truth through the knowledge base, as the open top-K protocol does.
#include "fuzz_kb.h"
#include "fuzz_support.h"

#include "dermlens/answers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    const auto & kb = dermlens::fuzz::shipped_kb();
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto diseases = dermlens::parse_skinflow_diseases(dermlens::fuzz::as_text(data, size));
        if (diseases.names.empty() == diseases.problem.empty()) {
            std::abort();  // either names or the reason there are none
        }
        for (const auto & name : diseases.names) {
            (void)dermlens::grade_diagnosis(kb, name, "mel", "ham10000");
        }
    });
    return 0;
}
