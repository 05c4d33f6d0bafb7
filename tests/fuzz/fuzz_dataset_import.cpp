// Harness: the importers of the public datasets' own CSV files (src/dataset/dataset.h
// import_dataset): HAM10000, ISIC 2018 / 2019, PAD-UFES-20, Fitzpatrick17k, Derm7pt, DDI,
// Derm12345 and BCN20000, their labels mapped through the shipped knowledge base. The first
// byte picks the dataset (and whether unknown labels are skipped); the rest is its metadata
// file, written under the name the importer looks for in the dataset's folder.
#include "fuzz_kb.h"
#include "fuzz_support.h"

#include "dataset/dataset.h"

#include <array>
#include <utility>

namespace {

using dermlens::dataset::DatasetFormat;

constexpr std::array<std::pair<DatasetFormat, const char *>, 9> kFiles{{
    {DatasetFormat::Ham10000, "HAM10000_metadata.csv"},
    {DatasetFormat::Isic2018, "ISIC2018_Task3_Training_GroundTruth.csv"},
    {DatasetFormat::Isic2019, "ISIC_2019_Training_GroundTruth.csv"},
    {DatasetFormat::PadUfes20, "metadata.csv"},
    {DatasetFormat::Fitzpatrick17k, "fitzpatrick17k.csv"},
    {DatasetFormat::Derm7pt, "meta.csv"},
    {DatasetFormat::Ddi, "ddi_metadata.csv"},
    {DatasetFormat::Derm12345, "derm12345_metadata_train.csv"},
    {DatasetFormat::Bcn20000, "bcn_20k_train.csv"},
}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const auto & kb = dermlens::fuzz::shipped_kb();
    const auto & [format, file] = kFiles[data[0] % kFiles.size()];
    dermlens::fuzz::clear_scratch();
    dermlens::fuzz::write_scratch(std::string("dataset/") + file, dermlens::fuzz::as_text(data + 1, size - 1));
    std::filesystem::create_directories(dermlens::fuzz::scratch_dir() / "images");
    dermlens::dataset::ImportOptions options;
    options.format = format;
    options.source = dermlens::fuzz::scratch_dir() / "dataset";
    options.images = dermlens::fuzz::scratch_dir() / "images";
    options.skip_unknown = (data[0] / kFiles.size()) % 2 == 1;
    options.roll_up = (data[0] / kFiles.size() / 2) % 2 == 1;
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto result = dermlens::dataset::import_dataset(kb, options);
        for (const auto & row : result.manifest.rows) {
            if (row.label.empty()) {
                std::abort();
            }
        }
    });
    return 0;
}
