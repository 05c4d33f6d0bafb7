#include "dataset/dataset_csv.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace dermlens::dataset::detail {

namespace fs = std::filesystem;

DatasetCsv::DatasetCsv(const fs::path & path, std::string noun) : path_(path), noun_(std::move(noun)) {
    const std::string text = read_csv_text(path_, noun_);
    CsvReader reader(text, path_, noun_);
    auto header = reader.next();
    if (!header) {
        fail("empty file (expected a header row)");
    }
    header_ = std::move(*header);
    while (auto record = reader.next()) {
        if (record->fields.size() != header_.fields.size()) {
            fail(*record, fmt::format("{} fields, but the header has {}", record->fields.size(), header_.fields.size()));
        }
        records_.push_back(std::move(*record));
    }
    if (records_.empty()) {
        fail("no rows (only a header)");
    }
}

std::optional<std::size_t> DatasetCsv::find_column(std::string_view name) const {
    const auto & fields = header_.fields;
    const auto it = std::find(fields.begin(), fields.end(), name);
    return it == fields.end() ? std::nullopt : std::optional<std::size_t>(static_cast<std::size_t>(it - fields.begin()));
}

std::size_t DatasetCsv::column(std::string_view name) const {
    if (const auto index = find_column(name)) {
        return *index;
    }
    throw Error(ErrorKind::InvalidInput, fmt::format("{} '{}' line {}: no '{}' column (the header has: {})", noun_,
                                                     path_.string(), header_.line, name, fmt::join(header_.fields, ",")));
}

const std::string & DatasetCsv::required(const CsvRecord & record, std::size_t column) const {
    const std::string & value = record.fields[column];
    if (blank(value)) {
        fail(record, fmt::format("empty '{}'", header_.fields[column]));
    }
    return value;
}

void DatasetCsv::fail(const CsvRecord & record, const std::string & reason) const {
    throw Error(ErrorKind::InvalidInput, fmt::format("{} '{}' line {}: {}", noun_, path_.string(), record.line, reason));
}

void DatasetCsv::fail(const std::string & reason) const {
    throw Error(ErrorKind::InvalidInput, fmt::format("{} '{}': {}", noun_, path_.string(), reason));
}

KeptColumns::KeptColumns(const DatasetCsv & csv, const std::vector<std::size_t> & consumed) {
    for (std::size_t i = 0; i < csv.header().size(); ++i) {
        const bool used = std::find(consumed.begin(), consumed.end(), i) != consumed.end();
        if (!used && !blank(csv.header()[i])) {
            names_.push_back(csv.header()[i]);
            indices_.push_back(i);
        }
    }
}

Metadata KeptColumns::of(const CsvRecord & record) const {
    Metadata metadata;
    metadata.reserve(indices_.size());
    for (std::size_t i = 0; i < indices_.size(); ++i) {
        metadata.emplace_back(names_[i], record.fields[indices_[i]]);
    }
    return metadata;
}

void TableBuilder::add(DatasetRow row, const Metadata & metadata) {
    for (const auto & [name, value] : metadata) {
        if (std::find(columns_.begin(), columns_.end(), name) == columns_.end()) {
            columns_.push_back(name);
        }
    }
    rows_.push_back(std::move(row));
    metadata_.push_back(metadata);
}

DatasetTable TableBuilder::finish(fs::path image_root, std::string group_column, std::string split_source) {
    DatasetTable table;
    table.metadata_columns = columns_;
    table.image_root = std::move(image_root);
    table.group_column = std::move(group_column);
    table.split_source = std::move(split_source);
    for (std::size_t r = 0; r < rows_.size(); ++r) {
        DatasetRow & row = rows_[r];
        row.metadata.assign(columns_.size(), "");
        for (const auto & [name, value] : metadata_[r]) {
            const auto at = std::find(columns_.begin(), columns_.end(), name) - columns_.begin();
            row.metadata[static_cast<std::size_t>(at)] = value;
        }
        table.rows.push_back(std::move(row));
    }
    return table;
}

void add_image_rows(TableBuilder & table, const DatasetCsv & csv, const ImageRowColumns & columns,
                    const ExtraMetadata & extra_metadata, const std::string & split) {
    std::vector<std::size_t> consumed{columns.image};
    if (columns.group) {
        consumed.push_back(*columns.group);
    }
    const KeptColumns kept(csv, consumed);
    for (const CsvRecord & record : csv.records()) {
        // The extra metadata first: a reader's check of its own columns is reported before a blank image or label.
        Metadata metadata = kept.of(record);
        if (extra_metadata) {
            const Metadata extra = extra_metadata(record);
            metadata.insert(metadata.end(), extra.begin(), extra.end());
        }
        DatasetRow row;
        row.image = csv.required(record, columns.image) + std::string(columns.image_extension);
        row.label = csv.required(record, columns.label);
        row.split = split;
        row.group = columns.group ? record.fields[*columns.group] : "";
        row.file = csv.path();
        row.line = record.line;
        table.add(std::move(row), metadata);
    }
}

DatasetTable image_row_table(const DatasetCsv & csv, fs::path image_root, const ImageRowColumns & columns,
                             const ExtraMetadata & extra_metadata) {
    TableBuilder table;
    add_image_rows(table, csv, columns, extra_metadata);
    return table.finish(std::move(image_root), columns.group ? csv.header()[*columns.group] : "", "");
}

fs::path file_in(const fs::path & source, std::string_view name, std::string_view dataset) {
    std::error_code ec;
    if (!fs::is_directory(source, ec)) {
        return source;  // the file itself; reading it reports when it is missing
    }
    const fs::path file = source / name;
    if (!fs::is_regular_file(file, ec)) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("{} folder '{}': no {} in it", dataset, source.string(), name));
    }
    return file;
}

std::optional<fs::path> optional_file(const fs::path & folder, std::string_view name) {
    std::error_code ec;
    const fs::path file = folder / name;
    return fs::is_regular_file(file, ec) ? std::optional<fs::path>(file) : std::nullopt;
}

fs::path folder_of(const fs::path & source) {
    std::error_code ec;
    return fs::is_directory(source, ec) ? source : source.parent_path();
}

bool blank(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

}  // namespace dermlens::dataset::detail
