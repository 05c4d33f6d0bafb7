// Harness: reading a feature table from CSV (src/vision/feature_table.h read_feature_table):
// the encoder identity line, the header, quoted fields, float parsing, validation.
#include "fuzz_support.h"

#include "vision/feature_table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    const auto path = dermlens::fuzz::write_scratch("features.csv", dermlens::fuzz::as_text(data, size));
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto table = dermlens::vision::read_feature_table(path);
        if (static_cast<std::size_t>(table.features.rows()) != table.size()) {
            std::abort();  // validate() passed, so the sizes agree
        }
    });
    return 0;
}
