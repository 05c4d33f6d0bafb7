// What the dataset readers share (internal to the importers): a dataset's CSV file read
// whole with its columns found by name, the columns kept as metadata, and the files a
// dataset's folder must or may hold.
#pragma once

#include "dataset/csv.h"
#include "dataset/dataset.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dermlens::dataset::detail {

class DatasetCsv {
public:
    // `noun` names the file to the user: "HAM10000 metadata". Refuses an empty file and
    // records whose field count differs from the header's.
    DatasetCsv(const std::filesystem::path & path, std::string noun);

    const std::filesystem::path & path() const { return path_; }
    const std::vector<std::string> & header() const { return header_.fields; }
    const std::vector<CsvRecord> & records() const { return records_; }

    std::optional<std::size_t> find_column(std::string_view name) const;
    // Throws naming the file, the missing column and the columns the file has.
    std::size_t column(std::string_view name) const;

    // A field that must not be blank, for a record of this file.
    const std::string & required(const CsvRecord & record, std::size_t column) const;

    [[noreturn]] void fail(const CsvRecord & record, const std::string & reason) const;
    [[noreturn]] void fail(const std::string & reason) const;

private:
    std::filesystem::path path_;
    std::string noun_;
    CsvRecord header_;
    std::vector<CsvRecord> records_;
};

using Metadata = std::vector<std::pair<std::string, std::string>>;  // column name -> value

// Every named column except `consumed`, in file order: what a row keeps as metadata.
// Columns without a name (a saved pandas index) are left out.
class KeptColumns {
public:
    KeptColumns(const DatasetCsv & csv, const std::vector<std::size_t> & consumed);
    Metadata of(const CsvRecord & record) const;

private:
    std::vector<std::string> names_;
    std::vector<std::size_t> indices_;
};

// Collects rows whose metadata columns may differ between the dataset's files: the table's
// columns are their union, in order of first appearance, blank where a row has none.
class TableBuilder {
public:
    void add(DatasetRow row, const Metadata & metadata);
    DatasetTable finish(std::filesystem::path image_root, std::string group_column, std::string split_source);

private:
    std::vector<std::string> columns_;
    std::vector<DatasetRow> rows_;
    std::vector<Metadata> metadata_;
};

// Where a file with one image per row keeps what a row is made of.
struct ImageRowColumns {
    std::size_t image = 0;
    std::string_view image_extension;  // appended where the column holds an id, not a file name ("" = none)
    std::size_t label = 0;
    std::optional<std::size_t> group;  // the patient or lesion id, when the file has one
};

// The metadata a reader adds after a row's kept columns (e.g. skin_type).
using ExtraMetadata = std::function<Metadata(const CsvRecord & record)>;

// One row per record: its image and label (neither may be blank), group, `split`, file and line;
// as metadata every named column but the image and group ones, then `extra_metadata`'s.
void add_image_rows(TableBuilder & table, const DatasetCsv & csv, const ImageRowColumns & columns,
                    const ExtraMetadata & extra_metadata = {}, const std::string & split = "");
// The table of a dataset that is this one file (no official split); its group column is the
// header's name for `columns.group`.
DatasetTable image_row_table(const DatasetCsv & csv, std::filesystem::path image_root, const ImageRowColumns & columns,
                             const ExtraMetadata & extra_metadata = {});

// The file itself when `source` is a file; else `source`/`name`, which must exist.
std::filesystem::path file_in(const std::filesystem::path & source, std::string_view name, std::string_view dataset);
// `folder`/`name` when it exists, else std::nullopt.
std::optional<std::filesystem::path> optional_file(const std::filesystem::path & folder, std::string_view name);
// The folder of `source`: itself when it is one, else its parent.
std::filesystem::path folder_of(const std::filesystem::path & source);

bool blank(std::string_view text);

// Readers, one per dataset family (dataset_isic.cpp, dataset_clinical.cpp, dataset_derm.cpp, dataset_folder.cpp).
DatasetTable read_ham10000(const std::filesystem::path & source);
DatasetTable read_isic2018(const std::filesystem::path & source);
DatasetTable read_isic2019(const std::filesystem::path & source);
DatasetTable read_bcn20000(const std::filesystem::path & source);
DatasetTable read_pad_ufes_20(const std::filesystem::path & source);
DatasetTable read_fitzpatrick17k(const std::filesystem::path & source);
DatasetTable read_ddi(const std::filesystem::path & source);
DatasetTable read_derm7pt(const std::filesystem::path & source, Derm7ptView view);
DatasetTable read_derm12345(const std::filesystem::path & source);
DatasetTable read_folder_tree(const std::filesystem::path & source);

// A DERM12345 subclass code's main class (for label set "derm12345-15") or super class
// ("derm12345-5") by the dataset's own taxonomy; std::nullopt for other label sets and codes.
std::optional<std::string> derm12345_coarse_label(const std::string & code, std::string_view label_set);

// Derm7pt's own class table (label set "derm7pt-14") groups the melanoma stages ("melanoma (in
// situ)", "melanoma (less than 0.76 mm)", ..., "melanoma metastasis") into one class, "melanoma".
std::string derm7pt_class(const std::string & diagnosis);

}  // namespace dermlens::dataset::detail
