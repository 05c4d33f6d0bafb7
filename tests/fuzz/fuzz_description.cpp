// Harness: the lesion description the model writes as JSON in describe-then-decide
// (src/pipeline/description.h parse_description), both schemas, and its JSON for the report.
#include "fuzz_support.h"

#include "pipeline/description.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    using dermlens::pipeline::DescriptionSchema;
    const auto schema = data[0] % 2 == 0 ? DescriptionSchema::FiveCriteria : DescriptionSchema::SkinFlow;
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto description = dermlens::pipeline::parse_description(dermlens::fuzz::as_text(data + 1, size - 1), schema);
        if (description.fields.size() != dermlens::pipeline::description_fields(schema).size()) {
            std::abort();
        }
        (void)dermlens::pipeline::to_json(description).dump();
    });
    return 0;
}
