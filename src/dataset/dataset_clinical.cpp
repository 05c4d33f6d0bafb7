// Clinical-photo datasets with skin types: PAD-UFES-20 (metadata.csv), Fitzpatrick17k
// (fitzpatrick17k.csv) and DDI (ddi_metadata.csv). Each row also gets a `skin_type`
// column: the Fitzpatrick type "1".."6", DDI's pairs "1-2", "3-4", "5-6", or "" when unknown.
#include "dataset/dataset_csv.h"

#include <fmt/format.h>

#include <charconv>

namespace dermlens::dataset::detail {
namespace {

namespace fs = std::filesystem;

// "3", "3.0" -> "3"; blank, "-1" (unknown) and anything else outside 1..6 -> "".
std::string fitzpatrick_type(const std::string & text) {
    double value = 0;
    const char * end = text.data() + text.size();
    const auto [at, ec] = std::from_chars(text.data(), end, value);
    const bool whole_type = ec == std::errc() && at == end && value >= 1 && value <= 6 && value == static_cast<int>(value);
    return whole_type ? std::to_string(static_cast<int>(value)) : "";
}

// The skin_type column from a column of Fitzpatrick types.
ExtraMetadata fitzpatrick_skin_type(std::size_t column) {
    return [column](const CsvRecord & record) {
        return Metadata{{"skin_type", fitzpatrick_type(record.fields[column])}};
    };
}

// DDI's skin_tone "12", "34" or "56" as the skin_type "1-2", "3-4" or "5-6".
ExtraMetadata ddi_skin_type(const DatasetCsv & csv, std::size_t column) {
    return [&csv, column](const CsvRecord & record) {
        const std::string & skin_tone = csv.required(record, column);
        if (skin_tone != "12" && skin_tone != "34" && skin_tone != "56") {
            csv.fail(record, fmt::format("skin_tone '{}' (expected 12, 34 or 56: Fitzpatrick I-II, III-IV, V-VI)", skin_tone));
        }
        return Metadata{{"skin_type", fmt::format("{}-{}", skin_tone[0], skin_tone[1])}};
    };
}

}  // namespace

DatasetTable read_pad_ufes_20(const fs::path & source) {
    const DatasetCsv csv(file_in(source, "metadata.csv", "PAD-UFES-20"), "PAD-UFES-20 metadata");
    const std::size_t patient = csv.column("patient_id");
    const std::size_t image = csv.column("img_id");
    const std::size_t diagnostic = csv.column("diagnostic");
    const std::size_t skin = csv.column("fitspatrick");  // sic: the dataset's spelling
    return image_row_table(csv, folder_of(source),
                           {.image = image, .image_extension = "", .label = diagnostic, .group = patient},
                           fitzpatrick_skin_type(skin));
}

DatasetTable read_fitzpatrick17k(const fs::path & source) {
    const DatasetCsv csv(file_in(source, "fitzpatrick17k.csv", "Fitzpatrick17k"), "Fitzpatrick17k metadata");
    const std::size_t hash = csv.column("md5hash");
    const std::size_t label = csv.column("label");
    const std::size_t scale = csv.column("fitzpatrick_scale");
    // The images are saved under their md5 hash.
    return image_row_table(csv, folder_of(source),
                           {.image = hash, .image_extension = ".jpg", .label = label, .group = std::nullopt},
                           fitzpatrick_skin_type(scale));
}

DatasetTable read_ddi(const fs::path & source) {
    const DatasetCsv csv(file_in(source, "ddi_metadata.csv", "DDI"), "DDI metadata");
    const std::size_t image = csv.column("DDI_file");
    const std::size_t disease = csv.column("disease");
    const std::size_t tone = csv.column("skin_tone");
    return image_row_table(csv, folder_of(source),
                           {.image = image, .image_extension = "", .label = disease, .group = std::nullopt},
                           ddi_skin_type(csv, tone));
}

}  // namespace dermlens::dataset::detail
