// PNG chunk walk: size from IHDR, the grey tRNS colour key (OpenCV ignores it
// for grey images), orientation from eXIf or from ImageMagick's
// "Raw profile type exif/APP1" text chunks, and proof that the file reaches
// IEND — a PNG cut short is refused, as libpng would only decode part of it.
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <zlib.h>

#include "image/byte_reader.h"
#include "image/exif.h"
#include "image/header.h"

namespace dermlens::image::detail {
namespace {

constexpr std::size_t kSignatureSize = 8;
constexpr std::uint32_t kMaxDimension = 0x7FFFFFFF;  // PNG spec limit
constexpr std::uint8_t kColourTypeGrey = 0;
constexpr std::size_t kMaxExifProfileBytes = 1 << 20;  // EXIF fits in 64 KiB; anything far larger is not EXIF
const char * const kTruncated = "truncated PNG data: the file ends before the IEND chunk";

struct Chunk {
    std::string_view type;
    std::span<const std::uint8_t> data;
};

struct PngFacts {
    std::optional<int> exif_chunk_orientation;
    std::optional<int> text_profile_orientation;
    std::optional<std::uint16_t> grey_key;
};

std::string_view as_text(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char *>(bytes.data()), bytes.size()};
}

// Inflates a zlib stream, giving up (nullopt) past `max_bytes` or on bad data.
std::optional<std::vector<std::uint8_t>> inflate_bounded(std::span<const std::uint8_t> compressed, std::size_t max_bytes) {
    z_stream stream{};
    if (inflateInit(&stream) != Z_OK) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> out(max_bytes);
    stream.next_in = const_cast<Bytef *>(compressed.data());  // zlib's API is not const-correct
    stream.avail_in = static_cast<uInt>(compressed.size());
    stream.next_out = out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    const int status = inflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    inflateEnd(&stream);
    if (status != Z_STREAM_END) {
        return std::nullopt;
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// ImageMagick's raw profile text: "\n<name>\n<decimal length>\n<hex digits, wrapped>".
std::optional<int> raw_profile_orientation(std::string_view text) {
    const std::size_t name_end = text.find('\n', text.find_first_not_of('\n'));
    if (name_end == std::string_view::npos) {
        return std::nullopt;
    }
    std::size_t pos = text.find_first_not_of(" \n", name_end);
    std::size_t declared = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && declared <= kMaxExifProfileBytes) {
        declared = declared * 10 + static_cast<std::size_t>(text[pos++] - '0');
    }
    if (declared == 0 || declared > kMaxExifProfileBytes) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> profile;
    profile.reserve(declared);
    int high_nibble = -1;
    for (; pos < text.size() && profile.size() < declared; ++pos) {
        const int nibble = hex_value(text[pos]);
        if (nibble < 0) {
            continue;  // line breaks between hex lines
        }
        if (high_nibble < 0) {
            high_nibble = nibble;
        } else {
            profile.push_back(static_cast<std::uint8_t>(high_nibble << 4 | nibble));
            high_nibble = -1;
        }
    }
    return exif_orientation(profile);
}

bool is_exif_profile_keyword(std::string_view keyword) {
    return keyword == "Raw profile type exif" || keyword == "Raw profile type APP1";
}

// tEXt: keyword NUL text. zTXt: keyword NUL method(0) zlib-stream.
std::optional<int> text_chunk_orientation(const Chunk & chunk) {
    const std::string_view body = as_text(chunk.data);
    const std::size_t keyword_end = body.find('\0');
    if (keyword_end == std::string_view::npos || !is_exif_profile_keyword(body.substr(0, keyword_end))) {
        return std::nullopt;
    }
    if (chunk.type == "tEXt") {
        return raw_profile_orientation(body.substr(keyword_end + 1));
    }
    const std::size_t stream_start = keyword_end + 2;
    if (stream_start > chunk.data.size() || chunk.data[keyword_end + 1] != 0) {
        return std::nullopt;
    }
    const auto inflated = inflate_bounded(chunk.data.subspan(stream_start), 2 * kMaxExifProfileBytes + 4096);
    return inflated ? raw_profile_orientation(as_text(*inflated)) : std::nullopt;
}

// Low grey bit depths are expanded to 8 bits by bit replication, i.e. scaled
// by 255 / (2^depth - 1); the key must be scaled the same way.
std::uint16_t decoded_grey_key(std::uint16_t key, unsigned bit_depth) {
    if (bit_depth >= 8) {
        return bit_depth == 8 ? static_cast<std::uint16_t>(key & 0xFF) : key;
    }
    const unsigned max_value = (1u << bit_depth) - 1;
    return static_cast<std::uint16_t>((key & max_value) * (255 / max_value));
}

// The bit depths the PNG specification (section 11.2.2) allows for each colour type.
bool valid_depth(unsigned colour_type, unsigned bit_depth) {
    const bool byte_depth = bit_depth == 8 || bit_depth == 16;
    switch (colour_type) {
        case 0: return byte_depth || bit_depth == 1 || bit_depth == 2 || bit_depth == 4;  // grey
        case 3: return bit_depth == 1 || bit_depth == 2 || bit_depth == 4 || bit_depth == 8;  // palette
        case 2: case 4: case 6: return byte_depth;  // RGB, grey + alpha, RGBA
        default: return false;
    }
}

void note_chunk(const Chunk & chunk, unsigned bit_depth, unsigned colour_type, PngFacts & facts) {
    if (chunk.type == "eXIf" && !facts.exif_chunk_orientation) {
        facts.exif_chunk_orientation = exif_orientation(chunk.data);
    } else if ((chunk.type == "tEXt" || chunk.type == "zTXt") && !facts.text_profile_orientation) {
        facts.text_profile_orientation = text_chunk_orientation(chunk);
    } else if (chunk.type == "tRNS" && colour_type == kColourTypeGrey && chunk.data.size() >= 2) {
        const ByteReader reader(chunk.data, Endian::Big, "PNG tRNS chunk");
        facts.grey_key = decoded_grey_key(reader.u16(0), bit_depth);
    }
}

}  // namespace

ImageHeader read_png_header(std::span<const std::uint8_t> bytes) {
    const ByteReader reader(bytes, Endian::Big, "PNG data");
    ImageHeader header;
    header.format = ImageFormat::Png;
    if (!reader.has(kSignatureSize, 8 + 13) || as_text(reader.slice(kSignatureSize + 4, 4)) != "IHDR" ||
        reader.u32(kSignatureSize) != 13) {
        throw ImageRejected("corrupt PNG: the first chunk is not a valid IHDR");
    }
    header.width = reader.u32(kSignatureSize + 8);
    header.height = reader.u32(kSignatureSize + 12);
    const unsigned bit_depth = reader.u8(kSignatureSize + 16);
    const unsigned colour_type = reader.u8(kSignatureSize + 17);
    if (header.width == 0 || header.height == 0 || header.width > kMaxDimension || header.height > kMaxDimension) {
        throw ImageRejected(fmt::format("corrupt PNG: invalid size {}x{} in IHDR", header.width, header.height));
    }
    // A depth of 0 would divide by zero when scaling a grey tRNS key (found by fuzz_image_header).
    if (!valid_depth(colour_type, bit_depth)) {
        throw ImageRejected(
            fmt::format("corrupt PNG: bit depth {} is not valid for colour type {} in IHDR", bit_depth, colour_type));
    }

    PngFacts facts;
    std::size_t pos = kSignatureSize;
    while (true) {
        if (!reader.has(pos, 8)) {
            throw ImageRejected(kTruncated);
        }
        const std::size_t length = reader.u32(pos);
        if (!reader.has(pos + 8, length) || !reader.has(pos + 8 + length, 4)) {
            throw ImageRejected(kTruncated);
        }
        const Chunk chunk{as_text(reader.slice(pos + 4, 4)), reader.slice(pos + 8, length)};
        if (chunk.type == "IEND") {
            break;
        }
        note_chunk(chunk, bit_depth, colour_type, facts);
        pos += 12 + length;
    }
    // eXIf is the standard place; the text profile is ImageMagick's older one.
    header.orientation = facts.exif_chunk_orientation.value_or(facts.text_profile_orientation.value_or(1));
    header.transparent_grey = facts.grey_key;
    return header;
}

}  // namespace dermlens::image::detail
