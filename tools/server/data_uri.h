// Images inside JSON: a data URI ("data:image/png;base64,...") or bare base64, decoded with
// OpenSSL's base64 (the server links it through cpp-httplib already); PNG heat maps written back
// as data URIs. The server fetches no URL: an http(s) or file image_url is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::server {

// The bytes of a data URI or of bare base64. Throws Error(InvalidArgument) naming `field`: a URL,
// a data URI that is not base64, characters outside base64, a length that is not a multiple of 4.
std::vector<std::uint8_t> decode_image_field(std::string_view text, const std::string & field);

std::string base64_encode(const std::vector<std::uint8_t> & bytes);

// "data:image/png;base64,..." of a PNG file.
std::string png_data_uri(const std::filesystem::path & png);

}  // namespace dermlens::server
