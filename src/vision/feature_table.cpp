#include "vision/feature_table.h"

#include "common/npy.h"
#include "common/atomic_file.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>

namespace dermlens::vision {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kIdentityTag = "# dermlens.features/1";
constexpr std::array<std::string_view, 4> kSplitNames = {"train", "val", "calib", "test"};

std::string quoted(const fs::path & path) {
    return fmt::format("'{}'", path.string());
}

[[noreturn]] void fail(ErrorKind kind, const fs::path & path, const std::string & reason) {
    throw Error(kind, fmt::format("features file {}: {}", quoted(path), reason));
}

std::string read_whole_file(const fs::path & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail(ErrorKind::InvalidInput, path, "cannot open it");
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        fail(ErrorKind::InvalidInput, path, "read error");
    }
    return text.str();
}

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

// ---- CSV ---------------------------------------------------------------------

// One CSV record (RFC 4180 quoting, a record never spans lines); nullopt + reason on a bad quote.
std::optional<std::vector<std::string>> split_csv_line(std::string_view line, std::string & reason) {
    std::vector<std::string> fields;
    std::string field;
    std::size_t i = 0;
    while (true) {
        field.clear();
        if (i < line.size() && line[i] == '"') {
            ++i;
            while (true) {
                if (i >= line.size()) {
                    reason = "a quoted field is not closed";
                    return std::nullopt;
                }
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field += line[i++];
            }
            if (i < line.size() && line[i] != ',') {
                reason = "text after a closing quote";
                return std::nullopt;
            }
        } else {
            const auto end = line.find(',', i);
            field.assign(line.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
            i = end == std::string_view::npos ? line.size() : end;
        }
        fields.push_back(field);
        if (i >= line.size()) {
            return fields;
        }
        ++i;  // the comma
    }
}

std::string csv_field(const std::string & text, const fs::path & path, std::string_view column) {
    if (text.find_first_of("\r\n") != std::string::npos) {
        fail(ErrorKind::InvalidArgument, path, fmt::format("{} '{}' contains a line break", column, text));
    }
    if (text.find_first_of(",\"") == std::string::npos) {
        return text;
    }
    std::string out = "\"";
    for (const char c : text) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

std::string format_float(float value) {
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return std::string(buffer.data(), result.ptr);
}

// Lines of a text file with their 1-based numbers, '\r' of CRLF endings removed, blank lines skipped.
struct Line {
    std::size_t number;
    std::string_view text;
};

std::vector<Line> text_lines(std::string_view text) {
    std::vector<Line> lines;
    std::size_t number = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        ++number;
        if (!trim(line).empty()) {
            lines.push_back({number, line});
        }
        start = end + 1;
    }
    return lines;
}

// `# dermlens.features/1 mmproj_sha256=HEX kind=KIND preprocessing=TEXT`
EncoderIdentity parse_identity_line(const Line & line, const fs::path & path) {
    EncoderIdentity identity;
    std::string_view rest = line.text.substr(kIdentityTag.size());
    std::map<std::string, bool> seen;
    while (!trim(rest).empty()) {
        rest = rest.substr(rest.find_first_not_of(" \t"));
        const auto end = rest.find_first_of(" \t");
        const std::string_view token = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        const auto eq = token.find('=');
        if (eq == std::string_view::npos) {
            fail(ErrorKind::InvalidInput, path,
                 fmt::format("line {}: encoder field '{}' is not key=value", line.number, token));
        }
        const std::string key(token.substr(0, eq));
        const std::string value(token.substr(eq + 1));
        if (seen[key]) {
            fail(ErrorKind::InvalidInput, path, fmt::format("line {}: encoder field '{}' given twice", line.number, key));
        }
        seen[key] = true;
        if (key == "mmproj_sha256") {
            identity.mmproj_sha256 = value;
        } else if (key == "kind") {
            try {
                identity.kind = parse_feature_kind(value);
            } catch (const Error & e) {
                fail(ErrorKind::InvalidInput, path, fmt::format("line {}: {}", line.number, e.what()));
            }
        } else if (key == "preprocessing") {
            identity.preprocessing = value;
        } else {
            fail(ErrorKind::InvalidInput, path,
                 fmt::format("line {}: unknown encoder field '{}' (mmproj_sha256, kind, preprocessing)", line.number,
                             key));
        }
    }
    return identity;
}

std::string identity_line(const EncoderIdentity & identity, const fs::path & path) {
    for (const auto & [name, value] : {std::pair<const char *, const std::string &>{"mmproj_sha256",
                                                                                     identity.mmproj_sha256},
                                       {"preprocessing", identity.preprocessing}}) {
        if (value.find_first_of(" \t\r\n") != std::string::npos) {
            fail(ErrorKind::InvalidArgument, path, fmt::format("encoder {} '{}' contains white space", name, value));
        }
    }
    return fmt::format("{} mmproj_sha256={} kind={} preprocessing={}\n", kIdentityTag, identity.mmproj_sha256,
                       feature_kind_name(identity.kind), identity.preprocessing);
}

// Where each metadata column and the feature columns sit in the header.
struct CsvLayout {
    std::size_t image = 0;
    std::optional<std::size_t> label, split, patient_id;
    std::size_t first_feature = 0;
    std::size_t dimension = 0;
    std::size_t columns = 0;
};

CsvLayout parse_header(const Line & line, const fs::path & path, bool features_expected) {
    std::string reason;
    const auto names = split_csv_line(line.text, reason);
    if (!names) {
        fail(ErrorKind::InvalidInput, path, fmt::format("line {} (header): {}", line.number, reason));
    }
    CsvLayout layout;
    layout.columns = names->size();
    std::optional<std::size_t> image;
    std::size_t column = 0;
    for (; column < names->size(); ++column) {
        const std::string name(trim((*names)[column]));
        std::optional<std::size_t> * slot = nullptr;
        if (name == "image") {
            slot = &image;
        } else if (name == "label") {
            slot = &layout.label;
        } else if (name == "split") {
            slot = &layout.split;
        } else if (name == "patient_id") {
            slot = &layout.patient_id;
        } else {
            break;
        }
        if (slot->has_value()) {
            fail(ErrorKind::InvalidInput, path, fmt::format("line {} (header): column '{}' appears twice", line.number,
                                                            name));
        }
        *slot = column;
    }
    if (!image) {
        fail(ErrorKind::InvalidInput, path,
             fmt::format("line {} (header): no 'image' column (expected image,label,split,patient_id,{})", line.number,
                         features_expected ? "f0,f1,..." : "without feature columns"));
    }
    layout.image = *image;
    layout.first_feature = column;
    for (; column < names->size(); ++column) {
        const std::string name(trim((*names)[column]));
        const std::string expected = fmt::format("f{}", column - layout.first_feature);
        if (!features_expected || name != expected) {
            fail(ErrorKind::InvalidInput, path,
                 features_expected
                     ? fmt::format("line {} (header): column {} is '{}', expected '{}' (columns are image, label, "
                                   "split, patient_id, then f0, f1, ...)",
                                   line.number, column + 1, name, expected)
                     : fmt::format("line {} (header): unknown column '{}' (a sidecar has image, label, split, "
                                   "patient_id)",
                                   line.number, name));
        }
    }
    layout.dimension = layout.columns - layout.first_feature;
    if (features_expected && layout.dimension == 0) {
        fail(ErrorKind::InvalidInput, path, fmt::format("line {} (header): no feature columns f0, f1, ...", line.number));
    }
    return layout;
}

float parse_float(std::string_view field, const fs::path & path, std::size_t line, std::size_t feature) {
    const std::string_view text = trim(field);
    float value = 0.0f;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || result.ec == std::errc::invalid_argument || result.ptr != text.data() + text.size()) {
        fail(ErrorKind::InvalidInput, path, fmt::format("line {}, column f{}: '{}' is not a number", line, feature,
                                                        field));
    }
    if (result.ec == std::errc::result_out_of_range || !std::isfinite(value)) {
        fail(ErrorKind::InvalidInput, path,
             fmt::format("line {}, column f{}: '{}' is not a finite float32 value", line, feature, field));
    }
    return value;
}

// Reads a CSV of metadata (+ features when features_expected) into table.
void read_csv_into(const fs::path & path, FeatureTable & table, bool features_expected) {
    const std::string text = read_whole_file(path);
    const auto lines = text_lines(text);
    std::size_t next = 0;
    if (next < lines.size() && lines[next].text.starts_with(kIdentityTag)) {
        table.encoder = parse_identity_line(lines[next], path);
        ++next;
    }
    if (next >= lines.size()) {
        fail(ErrorKind::InvalidInput, path, "empty: no header line");
    }
    const CsvLayout layout = parse_header(lines[next], path, features_expected);
    ++next;
    const std::size_t rows = lines.size() - next;
    if (features_expected) {
        table.features.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(layout.dimension));
    }
    for (std::size_t row = 0; row < rows; ++row) {
        const Line & line = lines[next + row];
        std::string reason;
        const auto fields = split_csv_line(line.text, reason);
        if (!fields) {
            fail(ErrorKind::InvalidInput, path, fmt::format("line {}: {}", line.number, reason));
        }
        if (fields->size() != layout.columns) {
            fail(ErrorKind::InvalidInput, path,
                 fmt::format("line {}: {} fields, the header has {}", line.number, fields->size(), layout.columns));
        }
        table.images.push_back((*fields)[layout.image]);
        if (table.images.back().empty()) {
            fail(ErrorKind::InvalidInput, path, fmt::format("line {}: the image field is empty", line.number));
        }
        table.labels.push_back(layout.label ? (*fields)[*layout.label] : "");
        table.splits.push_back(layout.split ? std::string(trim((*fields)[*layout.split])) : "");
        table.patient_ids.push_back(layout.patient_id ? (*fields)[*layout.patient_id] : "");
        const std::string & split = table.splits.back();
        if (!split.empty() && std::find(kSplitNames.begin(), kSplitNames.end(), split) == kSplitNames.end()) {
            fail(ErrorKind::InvalidInput, path,
                 fmt::format("line {}: split '{}' is not train, val, calib, test or empty", line.number, split));
        }
        for (std::size_t j = 0; j < layout.dimension; ++j) {
            table.features(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(j)) =
                parse_float((*fields)[layout.first_feature + j], path, line.number, j);
        }
    }
}

void write_csv(const FeatureTable & table, const fs::path & path, bool with_features) {
    std::string out = identity_line(table.encoder, path);
    out += "image,label,split,patient_id";
    if (with_features) {
        for (std::size_t j = 0; j < table.dimension(); ++j) {
            out += fmt::format(",f{}", j);
        }
    }
    out += '\n';
    for (std::size_t row = 0; row < table.size(); ++row) {
        out += csv_field(table.images[row], path, "image");
        out += ',';
        out += csv_field(table.labels[row], path, "label");
        out += ',';
        out += csv_field(table.splits[row], path, "split");
        out += ',';
        out += csv_field(table.patient_ids[row], path, "patient_id");
        if (with_features) {
            for (std::size_t j = 0; j < table.dimension(); ++j) {
                out += ',';
                out += format_float(table.feature_rows()(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(j)));
            }
        }
        out += '\n';
    }
    write_file_atomically(path, out, "features file");
}

// ---- .npy --------------------------------------------------------------------

constexpr std::string_view kNpyMagic = "\x93NUMPY";

fs::path sidecar_path(const fs::path & npy) {
    return fs::path(npy.string() + ".csv");
}

// The value text of 'key' in the .npy header dict, up to the next top-level ',' or '}'.
std::string npy_header_value(std::string_view header, std::string_view key, const fs::path & path) {
    const std::string quoted_key = fmt::format("'{}'", key);
    auto at = header.find(quoted_key);
    if (at == std::string_view::npos) {
        fail(ErrorKind::InvalidInput, path, fmt::format(".npy header has no '{}': {}", key, header));
    }
    at = header.find(':', at + quoted_key.size());
    if (at == std::string_view::npos) {
        fail(ErrorKind::InvalidInput, path, fmt::format(".npy header is malformed: {}", header));
    }
    std::size_t end = at + 1;
    int depth = 0;
    while (end < header.size() && !(depth == 0 && (header[end] == ',' || header[end] == '}'))) {
        if (header[end] == '(') {
            ++depth;
        } else if (header[end] == ')') {
            --depth;
        }
        ++end;
    }
    return std::string(trim(header.substr(at + 1, end - at - 1)));
}

std::vector<std::uint64_t> parse_npy_shape(const std::string & text, const fs::path & path) {
    if (text.size() < 2 || text.front() != '(' || text.back() != ')') {
        fail(ErrorKind::InvalidInput, path, fmt::format(".npy shape '{}' is malformed", text));
    }
    std::vector<std::uint64_t> shape;
    std::string_view rest = std::string_view(text).substr(1, text.size() - 2);
    while (!trim(rest).empty()) {
        const auto comma = rest.find(',');
        const std::string_view item = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        std::uint64_t value = 0;
        const auto result = std::from_chars(item.data(), item.data() + item.size(), value);
        if (item.empty() || result.ec != std::errc{} || result.ptr != item.data() + item.size()) {
            fail(ErrorKind::InvalidInput, path, fmt::format(".npy shape '{}' is malformed", text));
        }
        shape.push_back(value);
    }
    return shape;
}

template <typename T>
T load_le(const char * bytes) {
    static_assert(std::endian::native == std::endian::little, "dermlens reads .npy data on little-endian hosts");
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    return value;
}

void read_npy_into(const fs::path & path, FeatureTable & table) {
    const std::string bytes = read_whole_file(path);
    if (bytes.size() < 10 || std::string_view(bytes).substr(0, kNpyMagic.size()) != kNpyMagic) {
        fail(ErrorKind::InvalidInput, path, "not a .npy file (no \\x93NUMPY magic)");
    }
    const auto major = static_cast<unsigned char>(bytes[6]);
    std::size_t header_length = 0;
    std::size_t header_start = 0;
    if (major == 1) {
        header_length = load_le<std::uint16_t>(bytes.data() + 8);
        header_start = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12) {
            fail(ErrorKind::InvalidInput, path, "truncated .npy header");
        }
        header_length = load_le<std::uint32_t>(bytes.data() + 8);
        header_start = 12;
    } else {
        fail(ErrorKind::InvalidInput, path, fmt::format(".npy format version {} is not supported (1, 2 or 3)", major));
    }
    if (bytes.size() < header_start + header_length) {
        fail(ErrorKind::InvalidInput, path, "truncated .npy header");
    }
    const std::string_view header = std::string_view(bytes).substr(header_start, header_length);
    const std::string descr = npy_header_value(header, "descr", path);
    const std::string order = npy_header_value(header, "fortran_order", path);
    const auto shape = parse_npy_shape(npy_header_value(header, "shape", path), path);
    std::size_t item_size = 0;
    if (descr == "'<f4'") {
        item_size = 4;
    } else if (descr == "'<f8'") {
        item_size = 8;
    } else {
        fail(ErrorKind::InvalidInput, path,
             fmt::format(".npy dtype {} is not supported (little-endian float32 '<f4' or float64 '<f8')", descr));
    }
    if (order != "False" && order != "True") {
        fail(ErrorKind::InvalidInput, path, fmt::format(".npy fortran_order '{}' is malformed", order));
    }
    if (shape.size() != 2) {
        fail(ErrorKind::InvalidInput, path,
             fmt::format(".npy array has {} dimensions, expected 2 (rows, features)", shape.size()));
    }
    const std::uint64_t rows = shape[0];
    const std::uint64_t cols = shape[1];
    if (cols == 0) {
        fail(ErrorKind::InvalidInput, path, ".npy array has no feature columns");
    }
    const std::size_t data_start = header_start + header_length;
    const std::uint64_t available = bytes.size() - data_start;
    if (rows > std::numeric_limits<std::uint64_t>::max() / cols / item_size) {
        fail(ErrorKind::InvalidInput, path, fmt::format(".npy shape ({}, {}) is too large", rows, cols));
    }
    const std::uint64_t needed = rows * cols * item_size;
    if (needed > available) {
        fail(ErrorKind::InvalidInput, path,
             fmt::format("truncated: shape ({}, {}) of {}-byte values needs {} bytes of data, the file has {}", rows,
                         cols, item_size, needed, available));
    }
    if (needed < available) {
        fail(ErrorKind::InvalidInput, path,
             fmt::format("{} bytes after the data of shape ({}, {}) of {}-byte values", available - needed, rows, cols,
                         item_size));
    }
    const bool fortran = order == "True";
    table.features.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    const char * data = bytes.data() + data_start;
    for (std::uint64_t r = 0; r < rows; ++r) {
        for (std::uint64_t c = 0; c < cols; ++c) {
            const std::uint64_t index = fortran ? c * rows + r : r * cols + c;
            const double value = item_size == 4 ? load_le<float>(data + index * 4) : load_le<double>(data + index * 8);
            const auto narrowed = static_cast<float>(value);
            if (!std::isfinite(narrowed)) {
                fail(ErrorKind::InvalidInput, path,
                     fmt::format("row {}, feature {}: {} is not a finite float32 value", r, c, value));
            }
            table.features(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = narrowed;
        }
    }
    const fs::path sidecar = sidecar_path(path);
    if (!fs::exists(sidecar)) {
        fail(ErrorKind::InvalidInput, path,
             fmt::format("no sidecar {} with the image,label,split,patient_id of each row", quoted(sidecar)));
    }
    read_csv_into(sidecar, table, false);
    if (table.images.size() != rows) {
        fail(ErrorKind::InvalidInput, sidecar,
             fmt::format("{} rows, but {} has {} rows", table.images.size(), quoted(path), rows));
    }
}

void write_npy(const FeatureTable & table, const fs::path & path) {
    const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = table.feature_rows();
    const std::array<std::size_t, 2> shape{table.size(), table.dimension()};
    write_file_atomically(path, npy_float32({rows.data(), static_cast<std::size_t>(rows.size())}, shape), "features file");
    write_csv(table, sidecar_path(path), false);
}

enum class FileFormat { Csv, Npy };

FileFormat format_of(const fs::path & path) {
    const std::string extension = path.extension().string();
    if (extension == ".csv") {
        return FileFormat::Csv;
    }
    if (extension == ".npy") {
        return FileFormat::Npy;
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("features file {}: unknown format '{}' (use .csv or .npy)", quoted(path), extension));
}

}  // namespace

const char * feature_kind_name(FeatureKind kind) noexcept {
    switch (kind) {
        case FeatureKind::EncoderMean:   return "encoder-mean";
        case FeatureKind::ProjectedMean: return "projected-mean";
    }
    return "unknown";
}

FeatureKind parse_feature_kind(const std::string & text) {
    for (const auto kind : {FeatureKind::EncoderMean, FeatureKind::ProjectedMean}) {
        if (text == feature_kind_name(kind)) {
            return kind;
        }
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("feature kind '{}' is not encoder-mean or projected-mean", text));
}

std::string EncoderIdentity::key() const {
    // The hash is length-prefixed so that no two identities share a key, whatever the strings hold.
    return fmt::format("{}|{}:{}|{}", feature_kind_name(kind), mmproj_sha256.size(), mmproj_sha256, preprocessing);
}

FeatureView view_of(const Eigen::MatrixXf & features) {
    return FeatureView(features.data(), features.rows(), features.cols(),
                       Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(features.outerStride(), 1));
}

FeatureView BorrowedRows::view() const {
    // Column-major terms: the outer stride steps from one column (feature) to the next, the inner
    // one from one row to the next.
    return FeatureView(data, rows, columns, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(column_stride, row_stride));
}

void FeatureTable::validate() const {
    const std::size_t rows = images.size();
    const FeatureView matrix = feature_rows();
    const std::pair<const char *, std::size_t> columns[] = {{"labels", labels.size()},
                                                            {"splits", splits.size()},
                                                            {"patient_ids", patient_ids.size()},
                                                            {"feature rows", static_cast<std::size_t>(matrix.rows())}};
    for (const auto & [name, count] : columns) {
        if (count != rows) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("feature table: {} {} for {} images", count, name, rows));
        }
    }
    if (rows > 0 && matrix.cols() == 0) {
        throw Error(ErrorKind::InvalidInput, "feature table: the features have no columns");
    }
    for (std::size_t row = 0; row < rows; ++row) {
        if (!splits[row].empty() && std::find(kSplitNames.begin(), kSplitNames.end(), splits[row]) == kSplitNames.end()) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("feature table: row {} ('{}'): split '{}' is not train, val, calib, test or empty",
                                    row, images[row], splits[row]));
        }
        for (Eigen::Index j = 0; j < matrix.cols(); ++j) {
            if (!std::isfinite(matrix(static_cast<Eigen::Index>(row), j))) {
                throw Error(ErrorKind::InvalidInput,
                            fmt::format("feature table: row {} ('{}'), feature {}: {} is not finite", row, images[row],
                                        j, matrix(static_cast<Eigen::Index>(row), j)));
            }
        }
    }
}

FeatureTable read_feature_table(const std::filesystem::path & path) {
    const FileFormat format = format_of(path);
    FeatureTable table;
    if (format == FileFormat::Csv) {
        read_csv_into(path, table, true);
    } else {
        read_npy_into(path, table);
    }
    table.validate();
    return table;
}

void write_feature_table(const FeatureTable & table, const std::filesystem::path & path) {
    const FileFormat format = format_of(path);
    table.validate();
    if (format == FileFormat::Csv) {
        write_csv(table, path, true);
    } else {
        write_npy(table, path);
    }
}

}  // namespace dermlens::vision
