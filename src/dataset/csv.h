// RFC 4180 CSV records, shared by the manifest reader and the dataset importers: fields
// split by commas, records by LF or CRLF; a quoted field may hold commas, line breaks and
// doubled quotes; a UTF-8 byte-order mark is skipped; lines with nothing on them are skipped.
// Errors throw Error(InvalidInput) as "<noun> '<file>' line N: <reason>", where the noun
// says what the file is to the reader ("manifest", "HAM10000 metadata").
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::dataset {

struct CsvRecord {
    std::vector<std::string> fields;
    std::size_t line = 0;  // where it starts
};

class CsvReader {
public:
    // `text` must outlive the reader.
    CsvReader(std::string_view text, std::filesystem::path path, std::string noun);

    std::optional<CsvRecord> next();

private:
    [[noreturn]] void fail(std::size_t line, const std::string & reason) const;
    bool at_line_end() const;
    void skip_line_end();
    std::string field();
    std::string quoted_field();

    std::string_view text_;
    std::filesystem::path path_;
    std::string noun_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
};

// The file's bytes; Error(InvalidInput) "<noun> '<file>': file not found" (or not a regular
// file, cannot open it, read error).
std::string read_csv_text(const std::filesystem::path & path, std::string_view noun);

}  // namespace dermlens::dataset
