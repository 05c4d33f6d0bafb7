// Writes a manifest as the CSV that read_manifest_csv reads back: image,label,split,
// patient_id and then the metadata columns, RFC 4180 quoting where a field needs it.
// Images under the CSV's folder are written relative to it, others as absolute paths.
#pragma once

#include "dataset/manifest.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace dermlens::dataset {

// Writes beside `csv` first and renames (common/atomic_file.h), so a failed or killed write
// leaves no half file. Throws Error(InvalidInput) when the file cannot be written.
void write_manifest_csv(const Manifest & manifest, const std::filesystem::path & csv);

// A field as RFC 4180 writes it: quoted (quotes doubled) when it holds a comma, a quote or a line break.
std::string csv_field(std::string_view value);

}  // namespace dermlens::dataset
