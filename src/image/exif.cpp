#include "image/exif.h"

#include <algorithm>
#include <array>

#include "image/byte_reader.h"

namespace dermlens::image::detail {
namespace {

constexpr std::array<std::uint8_t, 6> kExifPrefix = {'E', 'x', 'i', 'f', 0, 0};
constexpr std::uint16_t kTypeShort = 3;
constexpr std::uint16_t kTypeLong = 4;
constexpr std::size_t kEntrySize = 12;

Endian tiff_byte_order(std::span<const std::uint8_t> tiff) {
    if (tiff.size() >= 4 && tiff[0] == 'I' && tiff[1] == 'I' && tiff[2] == 42 && tiff[3] == 0) {
        return Endian::Little;
    }
    if (tiff.size() >= 4 && tiff[0] == 'M' && tiff[1] == 'M' && tiff[2] == 0 && tiff[3] == 42) {
        return Endian::Big;
    }
    throw ImageRejected("malformed TIFF structure: bad byte-order header");
}

}  // namespace

std::optional<std::uint32_t> first_ifd_value(std::span<const std::uint8_t> tiff, std::uint16_t tag) {
    const ByteReader reader(tiff, tiff_byte_order(tiff), "TIFF directory");
    const std::size_t directory = reader.u32(4);
    const std::size_t entry_count = reader.u16(directory);
    if (!reader.has(directory + 2, entry_count * kEntrySize)) {
        throw ImageRejected("truncated or corrupt file: a TIFF directory extends past the end of the data");
    }
    for (std::size_t i = 0; i < entry_count; ++i) {
        const std::size_t entry = directory + 2 + i * kEntrySize;
        if (reader.u16(entry) != tag || reader.u32(entry + 4) < 1) {
            continue;
        }
        switch (reader.u16(entry + 2)) {
            case kTypeShort: return reader.u16(entry + 8);
            case kTypeLong: return reader.u32(entry + 8);
            default: return std::nullopt;
        }
    }
    return std::nullopt;
}

int exif_orientation(std::span<const std::uint8_t> exif) {
    if (exif.size() >= kExifPrefix.size() && std::equal(kExifPrefix.begin(), kExifPrefix.end(), exif.begin())) {
        exif = exif.subspan(kExifPrefix.size());
    }
    try {
        const auto orientation = first_ifd_value(exif, kTiffTagOrientation);
        return orientation && *orientation >= 1 && *orientation <= 8 ? static_cast<int>(*orientation) : 1;
    } catch (const ImageRejected &) {
        return 1;
    }
}

}  // namespace dermlens::image::detail
