// Harness: reading a manifest CSV (src/dataset/manifest.h read_manifest_csv): header columns,
// image paths resolved against the manifest's folder, labels, splits, patient ids, metadata.
#include "fuzz_support.h"

#include "dataset/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    const auto path = dermlens::fuzz::write_scratch("manifest.csv", dermlens::fuzz::as_text(data, size));
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto manifest = dermlens::dataset::read_manifest_csv(path);
        for (const auto & row : manifest.rows) {
            if (row.label.empty() || row.metadata.size() != manifest.metadata_columns.size()) {
                std::abort();  // manifest.h: labels are never empty, one metadata value per column
            }
            (void)manifest.where(row);
        }
        (void)manifest.labels();
    });
    return 0;
}
