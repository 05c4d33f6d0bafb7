#include "dataset/manifest.h"

#include "common/text.h"
#include "dermlens/error.h"
#include "dataset/csv.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string_view>

namespace dermlens::dataset {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 4> kSplitFolders{"train", "val", "calib", "test"};
constexpr std::array<std::string_view, 7> kImageExtensions{".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"};

[[noreturn]] void fail_file(const fs::path & path, const std::string & reason) {
    throw Error(ErrorKind::InvalidInput, fmt::format("manifest '{}': {}", path.string(), reason));
}

[[noreturn]] void fail_line(const fs::path & path, std::size_t line, const std::string & reason) {
    throw Error(ErrorKind::InvalidInput, fmt::format("manifest '{}' line {}: {}", path.string(), line, reason));
}

bool blank(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

struct Columns {
    std::size_t image = 0;
    std::size_t label = 0;
    std::optional<std::size_t> split;
    std::optional<std::size_t> patient_id;
    std::vector<std::size_t> metadata;
};

Columns header_columns(const CsvRecord & header, const fs::path & path, std::vector<std::string> & metadata_names) {
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < header.fields.size(); ++i) {
        const std::string & name = header.fields[i];
        if (blank(name)) {
            fail_line(path, header.line, fmt::format("column {} of the header has no name", i + 1));
        }
        if (!index.emplace(name, i).second) {
            fail_line(path, header.line, fmt::format("column '{}' appears twice in the header", name));
        }
    }
    Columns columns;
    const auto image = index.count("image") ? index.find("image") : index.find("path");
    if (image == index.end()) {
        fail_line(path, header.line, "no 'image' column (the header needs at least image,label)");
    }
    const auto label = index.find("label");
    if (label == index.end()) {
        fail_line(path, header.line, "no 'label' column (the header needs at least image,label)");
    }
    columns.image = image->second;
    columns.label = label->second;
    if (const auto split = index.find("split"); split != index.end()) {
        columns.split = split->second;
    }
    if (const auto patient = index.find("patient_id"); patient != index.end()) {
        columns.patient_id = patient->second;
    }
    for (std::size_t i = 0; i < header.fields.size(); ++i) {
        if (i != columns.image && i != columns.label && i != columns.split && i != columns.patient_id) {
            columns.metadata.push_back(i);
            metadata_names.push_back(header.fields[i]);
        }
    }
    return columns;
}

fs::path resolve(const fs::path & folder, const std::string & field) {
    const fs::path path(field);
    return (path.is_absolute() ? path : folder / path).lexically_normal();
}

std::vector<fs::path> sorted_entries(const fs::path & folder, bool directories) {
    std::vector<fs::path> entries;
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path & path = it->path();
        if (path.filename().string().starts_with(".")) {
            continue;
        }
        if (directories ? it->is_directory(ec) : it->is_regular_file(ec)) {
            entries.push_back(path);
        }
    }
    if (ec) {
        fail_file(folder, fmt::format("cannot list the folder: {}", ec.message()));
    }
    std::sort(entries.begin(), entries.end());
    return entries;
}

bool is_split_name(const std::string & name) {
    return std::find(kSplitFolders.begin(), kSplitFolders.end(), name) != kSplitFolders.end();
}

void add_class_folders(Manifest & manifest, const fs::path & folder, const std::string & split) {
    const auto classes = sorted_entries(folder, /*directories=*/true);
    if (classes.empty()) {
        fail_file(folder, "no class folders in it (expected one folder of images per label)");
    }
    for (const fs::path & class_folder : classes) {
        std::size_t images = 0;
        for (const fs::path & file : sorted_entries(class_folder, /*directories=*/false)) {
            if (!is_image_file_name(file)) {
                continue;
            }
            ManifestRow row;
            row.image = file.lexically_normal();
            row.image_field = file.lexically_relative(manifest.source).generic_string();
            row.label = class_folder.filename().string();
            row.split = split;
            manifest.rows.push_back(std::move(row));
            ++images;
        }
        if (images == 0) {
            fail_file(class_folder, "class folder without images (.jpg, .jpeg, .png, .webp, .bmp, .tif, .tiff)");
        }
    }
}

}  // namespace

std::vector<std::string> Manifest::labels() const {
    std::set<std::string> distinct;
    for (const auto & row : rows) {
        distinct.insert(row.label);
    }
    return {distinct.begin(), distinct.end()};
}

std::string Manifest::where(const ManifestRow & row) const {
    if (row.line > 0) {
        return fmt::format("manifest '{}' line {}", source.string(), row.line);
    }
    return fmt::format("folder '{}' image '{}'", source.string(), row.image_field);
}

bool is_image_file_name(const fs::path & path) {
    const std::string extension = ascii_lower(path.extension().string());
    return std::find(kImageExtensions.begin(), kImageExtensions.end(), extension) != kImageExtensions.end();
}

Manifest read_manifest_csv(const fs::path & csv) {
    const std::string text = read_csv_text(csv, "manifest");
    CsvReader reader(text, csv, "manifest");
    const auto header = reader.next();
    if (!header) {
        fail_file(csv, "empty file (expected a header row with at least image,label)");
    }
    Manifest manifest;
    manifest.source = csv;
    const Columns columns = header_columns(*header, csv, manifest.metadata_columns);
    const fs::path folder = csv.parent_path();
    std::map<fs::path, std::size_t> seen;  // image -> line
    while (const auto record = reader.next()) {
        if (record->fields.size() != header->fields.size()) {
            fail_line(csv, record->line,
                      fmt::format("{} fields, but the header has {}", record->fields.size(), header->fields.size()));
        }
        ManifestRow row;
        row.line = record->line;
        row.image_field = record->fields[columns.image];
        row.label = record->fields[columns.label];
        if (blank(row.image_field)) {
            fail_line(csv, row.line, "empty image");
        }
        if (blank(row.label)) {
            fail_line(csv, row.line, "empty label");
        }
        row.image = resolve(folder, row.image_field);
        if (const auto [at, added] = seen.emplace(row.image, row.line); !added) {
            fail_line(csv, row.line, fmt::format("image '{}' is already listed on line {}", row.image_field, at->second));
        }
        if (columns.split) {
            row.split = record->fields[*columns.split];
        }
        if (columns.patient_id) {
            row.patient_id = record->fields[*columns.patient_id];
        }
        for (const std::size_t i : columns.metadata) {
            row.metadata.push_back(record->fields[i]);
        }
        manifest.rows.push_back(std::move(row));
    }
    if (manifest.rows.empty()) {
        fail_file(csv, "no images listed (only a header)");
    }
    return manifest;
}

Manifest read_manifest_folder(const fs::path & folder) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        fail_file(folder, fs::exists(folder, ec) ? "not a folder" : "folder not found");
    }
    Manifest manifest;
    manifest.source = folder.lexically_normal();
    const auto top = sorted_entries(folder, /*directories=*/true);
    const bool by_split =
        !top.empty() && std::all_of(top.begin(), top.end(), [](const fs::path & p) { return is_split_name(p.filename().string()); });
    if (by_split) {
        for (const fs::path & split_folder : top) {
            add_class_folders(manifest, split_folder, split_folder.filename().string());
        }
    } else {
        add_class_folders(manifest, folder, "");
    }
    return manifest;
}

Manifest read_manifest(const fs::path & path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        return read_manifest_folder(path);
    }
    return read_manifest_csv(path);
}

}  // namespace dermlens::dataset
