// The ISIC family: HAM10000's metadata, the ISIC 2018 task 3 and ISIC 2019 one-hot ground
// truths (with the 2019 metadata's lesion ids), and BCN20000's bcn_20k_train.csv.
#include "dataset/dataset_csv.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <map>
#include <string_view>

namespace dermlens::dataset::detail {
namespace {

namespace fs = std::filesystem;

// ISIC images are named by their id; the archive serves them as JPEG.
constexpr std::string_view kIsicImageExtension = ".jpg";

std::string isic_image(const std::string & id) {
    return id + std::string(kIsicImageExtension);
}

struct OneHotColumns {
    std::vector<std::pair<std::string, std::size_t>> classes;  // class code -> column
    std::size_t image = 0;
};

OneHotColumns one_hot_columns(const DatasetCsv & csv, const std::vector<std::string_view> & required,
                              std::string_view optional_class) {
    OneHotColumns columns;
    columns.image = csv.column("image");
    for (const std::string_view code : required) {
        columns.classes.emplace_back(std::string(code), csv.column(code));
    }
    if (const auto extra = csv.find_column(optional_class)) {
        columns.classes.emplace_back(std::string(optional_class), *extra);
    }
    return columns;
}

bool parse_number(const std::string & text, double & value) {
    const char * end = text.data() + text.size();
    const auto [at, ec] = std::from_chars(text.data(), end, value);
    return ec == std::errc() && at == end;
}

// The one class whose column holds 1 (the others 0).
std::string marked_class(const DatasetCsv & csv, const CsvRecord & record, const OneHotColumns & columns) {
    std::vector<std::string> marked;
    for (const auto & [code, column] : columns.classes) {
        double value = 0;
        if (!parse_number(record.fields[column], value) || (value != 0.0 && value != 1.0)) {
            csv.fail(record, fmt::format("column '{}' holds '{}' (expected 0 or 1: the ground truth is one-hot)", code,
                                         record.fields[column]));
        }
        if (value == 1.0) {
            marked.push_back(code);
        }
    }
    if (marked.size() != 1) {
        csv.fail(record, marked.empty() ? std::string("no class is marked 1")
                                        : fmt::format("{} classes are marked 1 ({})", marked.size(), fmt::join(marked, ", ")));
    }
    return marked.front();
}

std::vector<std::size_t> consumed_by(const OneHotColumns & columns) {
    std::vector<std::size_t> consumed{columns.image};
    for (const auto & [code, column] : columns.classes) {
        consumed.push_back(column);
    }
    return consumed;
}

// A one-hot ground-truth file's rows: the marked class as the label (kept as `diagnosis`).
void add_one_hot_rows(TableBuilder & table, const DatasetCsv & csv, const OneHotColumns & columns,
                      const std::string & split, const std::map<std::string, Metadata> & extra_by_image = {},
                      const std::map<std::string, std::string> & group_by_image = {}) {
    const KeptColumns kept(csv, consumed_by(columns));
    for (const CsvRecord & record : csv.records()) {
        const std::string & id = csv.required(record, columns.image);
        DatasetRow row;
        row.image = isic_image(id);
        row.label = marked_class(csv, record, columns);
        row.split = split;
        row.file = csv.path();
        row.line = record.line;
        Metadata metadata = kept.of(record);
        metadata.emplace_back("diagnosis", row.label);
        if (const auto extra = extra_by_image.find(id); extra != extra_by_image.end()) {
            metadata.insert(metadata.end(), extra->second.begin(), extra->second.end());
        }
        if (const auto group = group_by_image.find(id); group != group_by_image.end()) {
            row.group = group->second;
        }
        table.add(std::move(row), metadata);
    }
}

// "ISIC2018_Task3_Training_GroundTruth.csv" -> "train", Validation -> "val", Test -> "test".
std::string split_named_in(const fs::path & file) {
    const std::string name = file.filename().string();
    static const std::array<std::pair<std::string_view, std::string_view>, 3> kParts = {
        {{"_Training_", "train"}, {"_Validation_", "val"}, {"_Test_", "test"}}};
    for (const auto & [part, split] : kParts) {
        if (name.find(part) != std::string::npos) {
            return std::string(split);
        }
    }
    return "";
}

std::vector<fs::path> present_files(const fs::path & source, const std::vector<std::string_view> & names,
                                    std::string_view dataset) {
    std::error_code ec;
    if (!fs::is_directory(source, ec)) {
        return {source};
    }
    std::vector<fs::path> files;
    for (const std::string_view name : names) {
        if (auto file = optional_file(source, name)) {
            files.push_back(*file);
        }
    }
    if (files.empty()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("{} folder '{}': none of {} in it", dataset, source.string(),
                                                         fmt::join(names, ", ")));
    }
    return files;
}

std::string file_names(const std::vector<fs::path> & files) {
    std::vector<std::string> names;
    for (const auto & file : files) {
        names.push_back(file.filename().string());
    }
    return fmt::format("{}", fmt::join(names, ", "));
}

// ISIC 2019 metadata (image, age_approx, anatom_site_general, lesion_id, sex) by image.
struct Isic2019Metadata {
    std::map<std::string, Metadata> columns;
    std::map<std::string, std::string> lesion;
};

Isic2019Metadata read_isic2019_metadata(const fs::path & file) {
    const DatasetCsv csv(file, "ISIC 2019 metadata");
    const std::size_t image = csv.column("image");
    const std::size_t lesion = csv.column("lesion_id");
    const KeptColumns kept(csv, {image, lesion});
    Isic2019Metadata metadata;
    for (const CsvRecord & record : csv.records()) {
        const std::string & id = csv.required(record, image);
        metadata.columns[id] = kept.of(record);
        metadata.lesion[id] = record.fields[lesion];
    }
    return metadata;
}

// ISIC_2019_Training_GroundTruth.csv -> ISIC_2019_Training_Metadata.csv beside it, when there.
std::optional<fs::path> metadata_beside(const fs::path & ground_truth) {
    std::string name = ground_truth.filename().string();
    const std::string_view part = "GroundTruth";
    const std::size_t at = name.find(part);
    if (at == std::string::npos) {
        return std::nullopt;
    }
    return optional_file(ground_truth.parent_path(), name.replace(at, part.size(), "Metadata"));
}

}  // namespace

DatasetTable read_ham10000(const fs::path & source) {
    const DatasetCsv csv(file_in(source, "HAM10000_metadata.csv", "HAM10000"), "HAM10000 metadata");
    const std::size_t lesion = csv.column("lesion_id");
    const std::size_t image = csv.column("image_id");
    const std::size_t dx = csv.column("dx");
    return image_row_table(csv, folder_of(source),
                           {.image = image, .image_extension = kIsicImageExtension, .label = dx, .group = lesion});
}

DatasetTable read_isic2018(const fs::path & source) {
    const std::vector<std::string_view> codes = {"MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC"};
    const auto files = present_files(source,
                                     {"ISIC2018_Task3_Training_GroundTruth.csv", "ISIC2018_Task3_Validation_GroundTruth.csv",
                                      "ISIC2018_Task3_Test_GroundTruth.csv"},
                                     "ISIC 2018");
    TableBuilder table;
    for (const fs::path & file : files) {
        const DatasetCsv csv(file, "ISIC 2018 ground truth");
        add_one_hot_rows(table, csv, one_hot_columns(csv, codes, ""), split_named_in(file));
    }
    return table.finish(folder_of(source), "", file_names(files));
}

DatasetTable read_isic2019(const fs::path & source) {
    const std::vector<std::string_view> codes = {"MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC"};
    const auto files = present_files(
        source, {"ISIC_2019_Training_GroundTruth.csv", "ISIC_2019_Test_GroundTruth.csv"}, "ISIC 2019");
    TableBuilder table;
    for (const fs::path & file : files) {
        Isic2019Metadata metadata;
        if (const auto metadata_file = metadata_beside(file)) {
            metadata = read_isic2019_metadata(*metadata_file);
        }
        const DatasetCsv csv(file, "ISIC 2019 ground truth");
        add_one_hot_rows(table, csv, one_hot_columns(csv, codes, "UNK"), split_named_in(file), metadata.columns,
                         metadata.lesion);
    }
    return table.finish(folder_of(source), "lesion_id", file_names(files));
}

DatasetTable read_bcn20000(const fs::path & source) {
    const DatasetCsv csv(file_in(source, "bcn_20k_train.csv", "BCN20000"), "BCN20000 metadata");
    const std::size_t image = csv.column("bcn_filename");
    const std::size_t diagnosis = csv.column("diagnosis");
    const auto lesion = csv.find_column("lesion_id");
    return image_row_table(csv, folder_of(source),
                           {.image = image, .image_extension = "", .label = diagnosis, .group = lesion});
}

}  // namespace dermlens::dataset::detail
