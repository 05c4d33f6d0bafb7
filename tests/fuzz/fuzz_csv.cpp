// Harness: the RFC 4180 reader every manifest and dataset importer shares (src/dataset/csv.h).
#include "fuzz_support.h"

#include "dataset/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    const std::string_view text = dermlens::fuzz::as_text(data, size);
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        dermlens::dataset::CsvReader reader(text, "fuzz.csv", "fuzz CSV");
        std::size_t last_line = 0;
        while (const auto record = reader.next()) {
            if (record->line < last_line || record->fields.empty()) {
                std::abort();  // records come in file order, each with at least one field
            }
            last_line = record->line;
        }
    });
    return 0;
}
