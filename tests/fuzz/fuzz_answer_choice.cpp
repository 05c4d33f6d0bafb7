// Harness: reading a model's free answer back to one option (dermlens/answers.h parse_choice)
// in every prompt style: option letters and label names (dermlens, SkinVL), Skin-R1's
// <thinking> / <final diagnosis> tags, SkinFlow's <answer> top-K JSON, the not-sure option,
// and names or synonyms through the knowledge base. The first byte picks the style, the
// not-sure option, the knowledge base and how many options; the rest is the reply.
#include "fuzz_kb.h"
#include "fuzz_support.h"

#include "dermlens/answers.h"

#include <array>

namespace {
constexpr std::array<const char *, 4> kStyles{"dermlens", "skinvl", "skin-r1", "skinflow"};
const std::vector<std::string> kLabels{"melanoma",         "melanocytic nevus", "basal cell carcinoma",
                                       "herpes zoster",    "actinic keratosis", "dermatofibroma",
                                       "seborrheic keratosis"};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const unsigned flags = data[0];
    const char * style = kStyles[flags % kStyles.size()];
    const bool not_sure = (flags >> 2) & 1;
    const auto * kb = ((flags >> 3) & 1) ? &dermlens::fuzz::shipped_kb() : nullptr;
    const std::size_t count = 2 + (flags >> 4) % (kLabels.size() - 1);
    const std::vector<std::string> labels(kLabels.begin(), kLabels.begin() + static_cast<std::ptrdiff_t>(count));
    const std::string_view reply = dermlens::fuzz::as_text(data + 1, size - 1);
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto parsed = dermlens::parse_choice(reply, labels, style, not_sure, kb);
        const std::size_t options = labels.size() + (not_sure ? 1 : 0);
        if ((parsed.status == "unparseable") == parsed.option.has_value() ||
            (parsed.option && *parsed.option >= options) || (parsed.option && !parsed.problem.empty())) {
            std::fprintf(stderr, "fuzz: inconsistent choice: status %s, problem '%s'\n", parsed.status.c_str(),
                         parsed.problem.c_str());
            std::abort();
        }
    });
    return 0;
}
