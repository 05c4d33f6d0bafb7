#include "dataset/csv.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace dermlens::dataset {

namespace fs = std::filesystem;

CsvReader::CsvReader(std::string_view text, fs::path path, std::string noun)
    : text_(text), path_(std::move(path)), noun_(std::move(noun)) {
    if (text_.starts_with("\xEF\xBB\xBF")) {
        text_.remove_prefix(3);  // UTF-8 byte-order mark
    }
}

std::optional<CsvRecord> CsvReader::next() {
    while (pos_ < text_.size()) {
        CsvRecord record;
        record.line = line_;
        if (at_line_end()) {
            skip_line_end();
            continue;
        }
        while (true) {
            record.fields.push_back(field());
            if (pos_ < text_.size() && text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            skip_line_end();
            break;
        }
        return record;
    }
    return std::nullopt;
}

void CsvReader::fail(std::size_t line, const std::string & reason) const {
    throw Error(ErrorKind::InvalidInput, fmt::format("{} '{}' line {}: {}", noun_, path_.string(), line, reason));
}

bool CsvReader::at_line_end() const {
    return text_[pos_] == '\n' || text_.substr(pos_).starts_with("\r\n");
}

void CsvReader::skip_line_end() {
    if (pos_ < text_.size()) {
        pos_ += text_[pos_] == '\r' ? 2 : 1;
        ++line_;
    }
}

std::string CsvReader::field() {
    if (pos_ < text_.size() && text_[pos_] == '"') {
        return quoted_field();
    }
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != ',' && !at_line_end()) {
        if (text_[pos_] == '"') {
            fail(line_, "a quote inside an unquoted field (quote the whole field and double the quote)");
        }
        if (text_[pos_] == '\r') {
            fail(line_, "a carriage return without a line feed");
        }
        ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
}

std::string CsvReader::quoted_field() {
    const std::size_t opened_on = line_;
    ++pos_;
    std::string value;
    while (true) {
        if (pos_ >= text_.size()) {
            fail(opened_on, "a quoted field is never closed");
        }
        const char c = text_[pos_++];
        if (c == '"') {
            if (pos_ < text_.size() && text_[pos_] == '"') {
                value += '"';
                ++pos_;
                continue;
            }
            if (pos_ < text_.size() && text_[pos_] != ',' && !at_line_end()) {
                fail(line_, "unexpected text after a closing quote");
            }
            return value;
        }
        if (c == '\n') {
            ++line_;
        }
        value += c;
    }
}

std::string read_csv_text(const fs::path & path, std::string_view noun) {
    const auto fail = [&](const char * reason) {
        throw Error(ErrorKind::InvalidInput, fmt::format("{} '{}': {}", noun, path.string(), reason));
    };
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        fail(fs::exists(path, ec) ? "not a regular file" : "file not found");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail("cannot open it");
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        fail("read error");
    }
    return text.str();
}

}  // namespace dermlens::dataset
