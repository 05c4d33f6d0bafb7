#include "dataset/manifest_write.h"

#include "common/atomic_file.h"

namespace dermlens::dataset {
namespace {

namespace fs = std::filesystem;

// Relative to the CSV's folder when the image lies under it: the manifest and its images move together.
std::string image_field(const fs::path & image, const fs::path & folder) {
    const fs::path absolute_image = fs::absolute(image).lexically_normal();
    const fs::path relative = absolute_image.lexically_relative(folder);
    const bool under = !relative.empty() && *relative.begin() != "..";
    return (under ? relative : absolute_image).generic_string();
}

void append_record(std::string & text, const std::vector<std::string> & fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
        text += i ? "," : "";
        text += csv_field(fields[i]);
    }
    text += '\n';
}

}  // namespace

std::string csv_field(std::string_view value) {
    if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
        return std::string(value);
    }
    std::string quoted = "\"";
    for (const char c : value) {
        quoted += c;
        if (c == '"') {
            quoted += '"';
        }
    }
    return quoted + '"';
}

void write_manifest_csv(const Manifest & manifest, const fs::path & csv) {
    const fs::path folder = fs::absolute(csv).parent_path().lexically_normal();
    std::string text;
    std::vector<std::string> header = {"image", "label", "split", "patient_id"};
    header.insert(header.end(), manifest.metadata_columns.begin(), manifest.metadata_columns.end());
    append_record(text, header);
    for (const ManifestRow & row : manifest.rows) {
        std::vector<std::string> fields = {image_field(row.image, folder), row.label, row.split, row.patient_id};
        fields.insert(fields.end(), row.metadata.begin(), row.metadata.end());
        append_record(text, fields);
    }
    write_file_atomically(csv, text, "manifest");
}

}  // namespace dermlens::dataset
