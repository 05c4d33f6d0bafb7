// Dermoscopy datasets with their own split files: Derm7pt (meta/meta.csv and the
// meta/{train,valid,test}_indexes.csv row indexes) and DERM12345
// (derm12345_metadata_train.csv, derm12345_metadata_test.csv).
#include "dataset/dataset_csv.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

namespace dermlens::dataset::detail {
namespace {

namespace fs = std::filesystem;

struct IndexFile {
    std::string_view name;
    std::string_view split;
};
constexpr std::array<IndexFile, 3> kDerm7ptIndexFiles = {
    {{"train_indexes.csv", "train"}, {"valid_indexes.csv", "val"}, {"test_indexes.csv", "test"}}};

fs::path derm7pt_meta_file(const fs::path & source) {
    std::error_code ec;
    if (fs::is_directory(source, ec) && fs::is_regular_file(source / "meta" / "meta.csv", ec)) {
        return source / "meta" / "meta.csv";  // the release folder (release_v0/)
    }
    return file_in(source, "meta.csv", "Derm7pt");
}

// Derm7pt's split of each meta.csv row (0-based, as its own code indexes them), from the
// three index files beside meta.csv; empty when there are none.
std::vector<std::string> derm7pt_splits(const fs::path & meta_folder, std::size_t cases) {
    std::vector<fs::path> present;
    std::vector<std::string_view> missing;
    for (const IndexFile & index_file : kDerm7ptIndexFiles) {
        if (auto file = optional_file(meta_folder, index_file.name)) {
            present.push_back(*file);
        } else {
            missing.push_back(index_file.name);
        }
    }
    if (present.empty()) {
        return {};
    }
    if (!missing.empty()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("Derm7pt folder '{}': {} is there but not {}", meta_folder.string(),
                                                         present.front().filename().string(), fmt::join(missing, ", ")));
    }
    std::vector<std::string> splits(cases);
    std::vector<std::string> listed_in(cases);  // "<file> line N", for the message about a case listed twice
    for (std::size_t f = 0; f < kDerm7ptIndexFiles.size(); ++f) {
        const DatasetCsv csv(present[f], "Derm7pt split index");
        const std::size_t column = csv.column("indexes");
        for (const CsvRecord & record : csv.records()) {
            const std::string & text = csv.required(record, column);
            std::size_t index = 0;
            const auto [at, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
            if (ec != std::errc() || at != text.data() + text.size() || index >= cases) {
                csv.fail(record, fmt::format("index '{}' is not a row of meta.csv (0 to {})", text, cases - 1));
            }
            if (!splits[index].empty()) {
                csv.fail(record, fmt::format("row {} is already listed in {}", index, listed_in[index]));
            }
            splits[index] = std::string(kDerm7ptIndexFiles[f].split);
            listed_in[index] = fmt::format("{} line {}", present[f].filename().string(), record.line);
        }
    }
    return splits;
}

// "case 565 ('meta.csv' line 566): clinic and derm are the same image 'Fhl/Fhl018.jpg' (notes: ...); ..."
std::string derm7pt_one_image_note(const DatasetCsv & csv, const CsvRecord & record, std::size_t case_num,
                                   std::size_t derm, Derm7ptView view) {
    const auto notes_column = csv.find_column("notes");
    const std::string notes = notes_column ? record.fields[*notes_column] : "";
    return fmt::format("case {} ('{}' line {}): clinic and derm are the same image '{}'{}; {}",
                       csv.required(record, case_num), csv.path().string(), record.line, csv.required(record, derm),
                       notes.empty() ? "" : fmt::format(" (notes: {})", notes),
                       view == Derm7ptView::Clinic ? "the case has no clinical image and is left out"
                                                   : "imported once, as the derm view");
}

// "_train" in the file name -> "train", "_test" -> "test".
std::string derm12345_split(const fs::path & file) {
    const std::string name = file.filename().string();
    if (name.find("_train") != std::string::npos) {
        return "train";
    }
    return name.find("_test") != std::string::npos ? "test" : "";
}

std::vector<fs::path> derm12345_files(const fs::path & source) {
    std::error_code ec;
    if (!fs::is_directory(source, ec)) {
        return {source};
    }
    std::vector<fs::path> files;
    for (const std::string_view name : {"derm12345_metadata_train.csv", "derm12345_metadata_test.csv"}) {
        if (auto file = optional_file(source, name)) {
            files.push_back(*file);
        }
    }
    if (files.empty()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("DERM12345 folder '{}': neither derm12345_metadata_train.csv nor "
                                "derm12345_metadata_test.csv in it",
                                source.string()));
    }
    return files;
}

// DERM12345's taxonomy (the authors' README tree): each main class with its subclass codes,
// in the dataset's order, and the super class it belongs to. Main-class strings are those of
// the derm12345-15 label set, super classes those of derm12345-5.
struct Derm12345MainClass {
    std::string_view main_class;
    std::string_view super_class;
    std::array<std::string_view, 5> codes;
};
constexpr std::array<Derm12345MainClass, 15> kDerm12345Taxonomy = {{
    {"banal compound", "melanocytic benign", {"acb", "cb", "ccb", "mcb"}},
    {"banal dermal", "melanocytic benign", {"bdb", "db"}},
    {"banal junctional", "melanocytic benign", {"ajb", "cjb", "jb"}},
    {"dysplastic compound", "melanocytic benign", {"acd", "cd", "ccd"}},
    {"dysplastic junctional", "melanocytic benign", {"ajd", "jd", "srjd"}},
    {"dysplastic recurrent", "melanocytic benign", {"rd"}},
    {"lentigo", "melanocytic benign", {"isl", "ls", "sl"}},
    {"melanoma", "melanocytic malignant", {"alm", "anm", "lm", "lmm", "mel"}},
    {"benign keratinocytic", "nonmelanocytic benign", {"lk", "sk"}},
    {"benign fibro-histiocytic", "nonmelanocytic benign", {"df"}},
    {"benign vascular", "nonmelanocytic benign", {"ha", "la", "pg", "angk", "sa"}},
    {"indeterminate keratinocytic", "nonmelanocytic indeterminate", {"ak"}},
    {"malignant keratinocytic", "nonmelanocytic malignant", {"bcc", "bd", "ch", "mpd", "scc"}},
    {"malignant fibro-histiocytic", "nonmelanocytic malignant", {"dfsp"}},
    {"malignant vascular", "nonmelanocytic malignant", {"ks"}},
}};

}  // namespace

std::string derm7pt_class(const std::string & diagnosis) {
    return diagnosis.starts_with("melanoma") ? "melanoma" : diagnosis;
}

std::optional<std::string> derm12345_coarse_label(const std::string & code, std::string_view label_set) {
    const bool main_classes = label_set == "derm12345-15";
    if (!main_classes && label_set != "derm12345-5") {
        return std::nullopt;
    }
    for (const Derm12345MainClass & entry : kDerm12345Taxonomy) {
        if (std::find(entry.codes.begin(), entry.codes.end(), code) != entry.codes.end()) {
            return std::string(main_classes ? entry.main_class : entry.super_class);
        }
    }
    return std::nullopt;
}

DatasetTable read_derm7pt(const fs::path & source, Derm7ptView view) {
    const fs::path meta_file = derm7pt_meta_file(source);
    const DatasetCsv csv(meta_file, "Derm7pt metadata");
    const std::size_t case_num = csv.column("case_num");
    const std::size_t diagnosis = csv.column("diagnosis");
    const std::size_t clinic = csv.column("clinic");
    const std::size_t derm = csv.column("derm");
    const KeptColumns kept(csv, {case_num, clinic, derm});
    const std::vector<std::string> splits = derm7pt_splits(meta_file.parent_path(), csv.records().size());

    std::vector<std::pair<std::string, std::size_t>> views;  // view name -> column
    if (view != Derm7ptView::Derm) {
        views.emplace_back("clinic", clinic);
    }
    if (view != Derm7ptView::Clinic) {
        views.emplace_back("derm", derm);
    }
    TableBuilder table;
    std::vector<std::string> notes;
    for (std::size_t r = 0; r < csv.records().size(); ++r) {
        const CsvRecord & record = csv.records()[r];
        // Cases whose clinical image is missing list the dermoscopic image in both columns (their
        // notes say so): that image is the derm view, and the case has no clinical view.
        const bool one_image = csv.required(record, clinic) == csv.required(record, derm);
        if (one_image) {
            notes.push_back(derm7pt_one_image_note(csv, record, case_num, derm, view));
        }
        for (const auto & [view_name, column] : views) {
            if (one_image && view_name == "clinic") {
                continue;
            }
            DatasetRow row;
            row.image = csv.required(record, column);
            row.label = csv.required(record, diagnosis);
            row.split = splits.empty() ? "" : splits[r];
            row.group = csv.required(record, case_num);
            row.file = csv.path();
            row.line = record.line;
            if (!splits.empty() && row.split.empty()) {
                csv.fail(record, "the case is in none of train_indexes.csv, valid_indexes.csv, test_indexes.csv");
            }
            Metadata metadata = kept.of(record);
            metadata.emplace_back("view", view_name);
            table.add(std::move(row), metadata);
        }
    }
    // Image paths ("NEL/Nel026.jpg") are relative to the release's images/ folder beside meta/.
    DatasetTable result = table.finish(meta_file.parent_path().parent_path() / "images", "case_num",
                                       splits.empty() ? "" : "train_indexes.csv, valid_indexes.csv, test_indexes.csv");
    result.notes = std::move(notes);
    return result;
}

DatasetTable read_derm12345(const fs::path & source) {
    const auto files = derm12345_files(source);
    TableBuilder table;
    std::vector<std::string> names;
    bool grouped = false;
    for (const fs::path & file : files) {
        const DatasetCsv csv(file, "DERM12345 metadata");
        const std::size_t image = csv.column("image_id");
        const std::size_t label = csv.column("label");
        const auto patient = csv.find_column("patient_id");
        grouped = grouped || patient.has_value();
        add_image_rows(table, csv, {.image = image, .image_extension = ".jpg", .label = label, .group = patient},
                       /*extra_metadata=*/{}, derm12345_split(file));
        names.push_back(file.filename().string());
    }
    return table.finish(folder_of(source), grouped ? "patient_id" : "", fmt::format("{}", fmt::join(names, ", ")));
}

}  // namespace dermlens::dataset::detail
