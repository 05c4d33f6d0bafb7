#include "dataset/manifest_write.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <fstream>

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

void write_record(std::ofstream & out, const std::vector<std::string> & fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
        out << (i ? "," : "") << csv_field(fields[i]);
    }
    out << '\n';
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
    const fs::path partial = fs::path(csv).concat(".partial");
    const auto fail = [&](const std::string & reason) {
        std::error_code ignored;
        fs::remove(partial, ignored);
        throw Error(ErrorKind::InvalidArgument, fmt::format("manifest '{}': {}", csv.string(), reason));
    };
    {
        std::ofstream out(partial, std::ios::binary | std::ios::trunc);
        if (!out) {
            fail("cannot create the file (does its folder exist?)");
        }
        std::vector<std::string> header = {"image", "label", "split", "patient_id"};
        header.insert(header.end(), manifest.metadata_columns.begin(), manifest.metadata_columns.end());
        write_record(out, header);
        for (const ManifestRow & row : manifest.rows) {
            std::vector<std::string> fields = {image_field(row.image, folder), row.label, row.split, row.patient_id};
            fields.insert(fields.end(), row.metadata.begin(), row.metadata.end());
            write_record(out, fields);
        }
        out.close();
        if (!out) {
            fail("write error");
        }
    }
    std::error_code ec;
    fs::rename(partial, csv, ec);
    if (ec) {
        fail(fmt::format("cannot move the written file into place: {}", ec.message()));
    }
}

}  // namespace dermlens::dataset
