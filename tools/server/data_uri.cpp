#include "data_uri.h"

#include "dermlens/error.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace dermlens::server {
namespace {

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

[[noreturn]] void refuse(const std::string & field, const std::string & reason) {
    throw Error(ErrorKind::InvalidArgument, fmt::format("{}: {}", field, reason), field);
}

}  // namespace

std::vector<std::uint8_t> decode_image_field(std::string_view text, const std::string & field) {
    if (text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0 || text.rfind("file:", 0) == 0) {
        refuse(field, "the server fetches no URL or file: send the image itself as a data URI or base64");
    }
    if (text.rfind("data:", 0) == 0) {
        const auto comma = text.find(',');
        if (comma == std::string_view::npos || text.substr(0, comma).find(";base64") == std::string_view::npos) {
            refuse(field, "a data URI must be 'data:<type>;base64,<data>'");
        }
        text.remove_prefix(comma + 1);
    }
    std::string clean;
    clean.reserve(text.size());
    for (const char c : text) {
        if (c == '\n' || c == '\r' || c == ' ') continue;
        clean.push_back(c);
    }
    const auto padding_start = clean.find('=');
    const std::size_t padding = padding_start == std::string::npos ? 0 : clean.size() - padding_start;
    if (clean.empty() || clean.size() % 4 != 0 || padding > 2 ||
        !std::all_of(clean.begin(), clean.end() - static_cast<std::ptrdiff_t>(padding), is_base64_char) ||
        !std::all_of(clean.end() - static_cast<std::ptrdiff_t>(padding), clean.end(), [](char c) { return c == '='; })) {
        refuse(field, "not valid base64 (characters A-Z a-z 0-9 + /, padded with = to a multiple of 4)");
    }
    std::vector<std::uint8_t> bytes(clean.size() / 4 * 3);
    const int written = EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char *>(clean.data()),
                                        static_cast<int>(clean.size()));
    if (written < 0) {
        refuse(field, "not valid base64");
    }
    bytes.resize(static_cast<std::size_t>(written) - padding);  // EVP_DecodeBlock keeps the padding's zero bytes
    return bytes;
}

std::string base64_encode(const std::vector<std::uint8_t> & bytes) {
    std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(text.data()), bytes.data(),
                                        static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(written));
    return text;
}

std::string png_data_uri(const std::filesystem::path & png) {
    std::ifstream in(png, std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return "data:image/png;base64," + base64_encode(bytes);
}

}  // namespace dermlens::server
