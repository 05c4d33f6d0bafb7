// Dataset importers: each public dataset's own files, as users download them, turned into
// a manifest (docs/datasets.md). Two steps:
//   read_dataset    the dataset's files -> rows with the dataset's own labels, its official
//                   split where it has one, patient or lesion ids and the other columns;
//   import_dataset  those rows -> an dataset::Manifest: labels mapped through a knowledge-base
//                   label set, images found under the image folder, and a seeded split
//                   grouped by patient/lesion where the dataset brings none.
// Bad input throws Error(InvalidInput) naming the file, the line and the reason; a label the
// label set cannot map throws Error(InvalidArgument) unless rows like it are to be skipped.
#pragma once

#include "dataset/manifest.h"
#include "dermlens/kb/knowledge_base.h"
#include "dataset/split.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::dataset {

enum class DatasetFormat { Ham10000, Isic2018, Isic2019, PadUfes20, Fitzpatrick17k, Derm7pt, Ddi, Derm12345, Bcn20000, Folder };

// "ham10000", "isic2018", ...: the names the CLI takes, in the order above.
std::vector<std::string_view> dataset_format_names();
std::string_view dataset_format_name(DatasetFormat format);
DatasetFormat parse_dataset_format(std::string_view name);  // throws Error(InvalidArgument) listing the names

// The label set that holds the dataset's own labels ("" for folder trees, whose labels are
// resolved through the target label set and the knowledge base's names).
std::string_view native_label_set(DatasetFormat format);

// Which images of Derm7pt's cases: each case has a clinical and a dermoscopic image.
enum class Derm7ptView { Both, Clinic, Derm };
Derm7ptView parse_derm7pt_view(std::string_view name);  // "both", "clinic", "derm"

// One image as the dataset's own files describe it.
struct DatasetRow {
    std::string image;                  // file name, or path relative to the image folder
    std::string label;                  // the dataset's own label
    std::string split;                  // the official split ("train", "val", "test"), or ""
    std::string group;                  // patient or lesion id ("" = a group of its own)
    std::vector<std::string> metadata;  // one value per DatasetTable::metadata_columns
    std::filesystem::path file;         // the file (or class folder) it was read from
    std::size_t line = 0;               // its line there; 0 for folder trees
};

struct DatasetTable {
    std::vector<std::string> metadata_columns;
    std::vector<DatasetRow> rows;
    std::filesystem::path image_root;  // where the images are unless the user says otherwise
    std::string group_column;          // the dataset's column the groups come from ("" = none)
    std::string split_source;          // what gave the official split; "" when there is none
    std::vector<std::string> notes;    // quirks of the files and how they were handled, one sentence each

    bool has_official_split() const { return !split_source.empty(); }
};

// `source` is the dataset's main file or the folder holding its files.
DatasetTable read_dataset(DatasetFormat format, const std::filesystem::path & source,
                          Derm7ptView view = Derm7ptView::Both);

// "6:2:2" (train:val:test), "8:2" (train:test) or "a:b:c:d" (train:val:calib:test); the
// parts are relative weights. Throws Error(InvalidArgument).
dataset::SplitProportions parse_split_ratio(std::string_view text);

struct ImportOptions {
    DatasetFormat format = DatasetFormat::Folder;
    std::filesystem::path source;
    std::filesystem::path images;  // empty: DatasetTable::image_root
    std::string label_set;         // empty: native_label_set(format)
    std::uint64_t seed = 0;
    dataset::SplitProportions split = parse_split_ratio("6:2:2");
    bool skip_unknown = false;  // leave out rows whose label the label set cannot map, and count them
    bool roll_up = false;       // map a condition the label set lacks to its nearest ancestor the set has
    Derm7ptView view = Derm7ptView::Both;
};

struct ImportReport {
    std::size_t rows_read = 0;
    std::map<std::string, std::size_t> skipped_labels;  // dataset label -> rows left out
    std::size_t missing_images = 0;                     // rows whose image is not under the image folder
    std::string first_missing_image;
    std::filesystem::path image_root;
    std::string split_source;  // the official split's files, or "seeded 6:2:0:2, seed 0, grouped by lesion_id"
    std::map<std::string, std::size_t> split_sizes;
    std::size_t duplicate_images = 0;  // rows left out because an earlier row lists the same image
    std::vector<std::string> notes;    // the dataset's quirks and how they were handled, one sentence each

    std::size_t skipped() const;
};

struct ImportResult {
    Manifest manifest;  // image = the image's path; image_field = the same, as text
    ImportReport report;
};

ImportResult import_dataset(const kb::KnowledgeBase & kb, const ImportOptions & options);

}  // namespace dermlens::dataset
