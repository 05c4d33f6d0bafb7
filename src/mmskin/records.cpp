#include "mmskin/records.h"

#include "common/atomic_file.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <fstream>

namespace dermlens::mmskin {

std::vector<Record> read_records(const std::filesystem::path & file, const std::vector<std::string> & required) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::InvalidInput, fmt::format("'{}': cannot read it", file.string()), "input");
    }
    std::vector<Record> records;
    std::size_t number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        Record record = Record::parse(line, nullptr, false);
        if (!record.is_object()) {
            throw Error(ErrorKind::InvalidInput, fmt::format("'{}' line {}: not a JSON object", file.string(), number),
                        "input");
        }
        for (const std::string & field : required) {
            if (!record.contains(field) || !record[field].is_string()) {
                throw Error(ErrorKind::InvalidInput,
                            fmt::format("'{}' line {}: no string field '{}'", file.string(), number, field), field);
            }
        }
        records.push_back(std::move(record));
    }
    return records;
}

void write_records(const std::filesystem::path & file, const std::vector<Record> & records) {
    std::string text;
    for (const Record & record : records) {
        text += record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    write_file_atomically(file, text);
}

}  // namespace dermlens::mmskin
