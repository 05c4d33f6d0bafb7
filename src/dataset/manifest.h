// A dataset manifest: which images, with which labels, in which split.
//
// Two forms (docs/embeddings.md):
//   CSV     a header row naming at least `image` (or `path`) and `label`; optional `split`
//           and `patient_id`; every other column is kept as metadata. RFC 4180: fields may
//           be quoted ("a, b" and "say ""x""" and line breaks inside quotes), CRLF or LF.
//           Relative image paths resolve against the manifest's folder.
//   folder  one subfolder per class holding its images (label = folder name), or one
//           subfolder per split (train, val, calib, test) each holding class folders.
// Errors throw Error(InvalidInput) naming the file and the line.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace dermlens::dataset {

struct ManifestRow {
    std::filesystem::path image;        // resolved path (relative ones joined to the manifest's folder)
    std::string image_field;            // as written in the CSV, or relative to the folder of a tree
    std::string label;                  // never empty
    std::string split;                  // "" when the manifest has no split
    std::string patient_id;             // "" when unknown
    std::vector<std::string> metadata;  // one value per Manifest::metadata_columns
    std::size_t line = 0;               // CSV line the record starts on; 0 for folder trees
};

struct Manifest {
    std::filesystem::path source;               // the CSV file or the folder
    std::vector<std::string> metadata_columns;  // the CSV's other columns, in file order
    std::vector<ManifestRow> rows;              // in file order (CSV) or sorted by path (folder)

    std::size_t size() const noexcept { return rows.size(); }
    std::vector<std::string> labels() const;  // the distinct labels, sorted
    std::string where(const ManifestRow & row) const;  // "manifest 'm.csv' line 7" / "folder 'd' image 'a/b.jpg'"
};

// A CSV file or a folder tree, by what `path` is.
Manifest read_manifest(const std::filesystem::path & path);
Manifest read_manifest_csv(const std::filesystem::path & csv);
Manifest read_manifest_folder(const std::filesystem::path & folder);

// File extensions the folder form picks up (case-insensitive): .jpg .jpeg .png .webp .bmp .tif .tiff
bool is_image_file_name(const std::filesystem::path & path);

}  // namespace dermlens::dataset
