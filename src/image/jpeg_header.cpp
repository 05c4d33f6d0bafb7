// Walks the JPEG marker structure from SOI to EOI: frame size and variant
// from the SOF segment, orientation from the APP1 EXIF segment, and proof that
// the file is complete. A JPEG cut short is refused rather than accepted as a
// partial decode: libjpeg would fill the missing part with grey, and a
// diagnosis must not be made on an image with an invented region.
#include <cstring>

#include <fmt/format.h>

#include "image/byte_reader.h"
#include "image/exif.h"
#include "image/header.h"

namespace dermlens::image::detail {
namespace {

constexpr std::uint8_t kMarkerPrefix = 0xFF;
constexpr std::uint8_t kStartOfScan = 0xDA;
constexpr std::uint8_t kEndOfImage = 0xD9;
constexpr std::uint8_t kApp1 = 0xE1;
constexpr std::uint8_t kTemporary = 0x01;
constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);
const char * const kTruncated = "truncated JPEG data: the file ends before the end-of-image marker";

bool is_restart(std::uint8_t marker) { return marker >= 0xD0 && marker <= 0xD7; }

// SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
bool is_start_of_frame(std::uint8_t marker) {
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

bool is_lossless(std::uint8_t sof) { return (sof & 0x03) == 0x03; }
bool is_hierarchical(std::uint8_t sof) { return (sof & 0x07) >= 0x05; }

// Position of the next marker code, skipping fill bytes and, like libjpeg,
// stray bytes before the 0xFF prefix.
std::size_t next_marker(std::span<const std::uint8_t> bytes, std::size_t pos) {
    while (pos < bytes.size()) {
        if (bytes[pos] != kMarkerPrefix) {
            ++pos;
            continue;
        }
        while (pos < bytes.size() && bytes[pos] == kMarkerPrefix) {
            ++pos;
        }
        if (pos < bytes.size() && bytes[pos] != 0x00) {
            return pos;
        }
        ++pos;
    }
    return kNotFound;
}

// Position of the 0xFF that ends the entropy-coded data after a scan header.
// Stuffed zeros (FF 00) and restart markers belong to the scan.
std::size_t end_of_entropy_data(std::span<const std::uint8_t> bytes, std::size_t pos) {
    while (pos < bytes.size()) {
        const void * found = std::memchr(bytes.data() + pos, kMarkerPrefix, bytes.size() - pos);
        if (found == nullptr) {
            return bytes.size();
        }
        const std::size_t prefix = static_cast<std::size_t>(static_cast<const std::uint8_t *>(found) - bytes.data());
        std::size_t code = prefix + 1;
        while (code < bytes.size() && bytes[code] == kMarkerPrefix) {
            ++code;
        }
        if (code >= bytes.size()) {
            return bytes.size();
        }
        if (bytes[code] != 0x00 && !is_restart(bytes[code])) {
            return prefix;
        }
        pos = code + 1;
    }
    return bytes.size();
}

void read_frame(const ByteReader & segment, std::uint8_t marker, ImageHeader & header) {
    if (is_lossless(marker)) {
        throw ImageRejected("lossless JPEG is not supported");
    }
    if (is_hierarchical(marker)) {
        throw ImageRejected("hierarchical JPEG is not supported");
    }
    const unsigned precision = segment.u8(0);
    if (precision != 8) {
        throw ImageRejected(fmt::format("{}-bit JPEG sample precision is not supported (only 8-bit)", precision));
    }
    header.height = segment.u16(1);
    header.width = segment.u16(3);
    const unsigned components = segment.u8(5);
    if (header.height == 0) {
        throw ImageRejected("JPEG whose height is given by a DNL marker is not supported");
    }
    if (header.width == 0) {
        throw ImageRejected("corrupt JPEG frame header: zero width");
    }
    if (components != 1 && components != 3 && components != 4) {
        throw ImageRejected(fmt::format("JPEG with {} colour components is not supported", components));
    }
}

bool is_exif_segment(std::span<const std::uint8_t> segment) {
    return segment.size() >= 6 && std::memcmp(segment.data(), "Exif\0\0", 6) == 0;
}

}  // namespace

ImageHeader read_jpeg_header(std::span<const std::uint8_t> bytes) {
    const ByteReader reader(bytes, Endian::Big, "JPEG data");
    ImageHeader header;
    header.format = ImageFormat::Jpeg;
    bool have_frame = false;
    bool have_exif = false;
    std::size_t pos = 2;  // after SOI
    while (true) {
        pos = next_marker(bytes, pos);
        if (pos == kNotFound) {
            throw ImageRejected(kTruncated);
        }
        const std::uint8_t marker = bytes[pos++];
        if (marker == kEndOfImage) {
            break;
        }
        if (is_restart(marker) || marker == kTemporary) {
            continue;
        }
        if (!reader.has(pos, 2)) {
            throw ImageRejected(kTruncated);
        }
        const std::size_t length = reader.u16(pos);
        if (length < 2) {
            throw ImageRejected("corrupt JPEG: invalid marker segment length");
        }
        if (!reader.has(pos, length)) {
            throw ImageRejected(kTruncated);
        }
        const auto segment = reader.slice(pos + 2, length - 2);
        pos += length;
        if (is_start_of_frame(marker) && !have_frame) {
            read_frame(ByteReader(segment, Endian::Big, "JPEG frame header"), marker, header);
            have_frame = true;
        } else if (marker == kApp1 && !have_exif && is_exif_segment(segment)) {
            header.orientation = exif_orientation(segment);
            have_exif = true;
        } else if (marker == kStartOfScan) {
            if (!have_frame) {
                throw ImageRejected("corrupt JPEG: scan data before the frame header");
            }
            pos = end_of_entropy_data(bytes, pos);
        }
    }
    if (!have_frame) {
        throw ImageRejected("corrupt JPEG: no frame header");
    }
    return header;
}

}  // namespace dermlens::image::detail
