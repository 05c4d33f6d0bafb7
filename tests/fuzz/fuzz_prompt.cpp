// Harness: filling the prompt templates (src/pipeline/prompt.h build_prompt) with what users
// and manifests supply: option labels (from --labels, parse_label_list) and the clinical
// context (age, sex, site, history, Fitzpatrick type), in every style and strategy. The
// input is fields separated by "||": flags, age, sex, site, history, Fitzpatrick, labels.
// The flags' first byte picks the style, the describe-first and not-sure switches and the
// description schema; in-context options are described through the knowledge base.
#include "fuzz_kb.h"
#include "fuzz_support.h"

#include "pipeline/direct.h"
#include "pipeline/prompt.h"

#include <charconv>

namespace {

using namespace dermlens::pipeline;

std::optional<int> number(std::string_view text) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() ? std::optional<int>(value) : std::nullopt;
}

std::string_view part(const std::vector<std::string_view> & parts, std::size_t i) {
    return i < parts.size() ? parts[i] : std::string_view();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    const auto parts = dermlens::fuzz::split_parts(dermlens::fuzz::as_text(data, size), "||");
    const unsigned flags = part(parts, 0).empty() ? 0 : static_cast<unsigned char>(part(parts, 0)[0]);
    PromptRequest request;
    request.style = static_cast<PromptStyle>(flags % 4);
    request.describe_first = (flags >> 2) & 1;
    request.not_sure_option = (flags >> 3) & 1;
    request.schema = (flags >> 4) & 1 ? DescriptionSchema::SkinFlow : DescriptionSchema::FiveCriteria;
    const bool in_context = (flags >> 5) & 1;
    request.context.age = number(part(parts, 1));
    request.context.sex = part(parts, 2);
    request.context.site = part(parts, 3);
    request.context.history = part(parts, 4);
    request.context.fitzpatrick = number(part(parts, 5));
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto labels = parse_label_list(part(parts, 6));
        if (in_context) {
            request.with_descriptions = true;
            request.options = options_with_descriptions(dermlens::fuzz::shipped_kb(), labels, "");
        } else {
            for (const auto & label : labels) {
                request.options.push_back({label, ""});
            }
        }
        const PromptTurns turns = build_prompt(request);
        if (turns.markers.size() != request.options.size() + (request.not_sure_option ? 1 : 0) ||
            turns.decide_question.has_value() != request.describe_first) {
            std::abort();
        }
    });
    return 0;
}
