// RIFF/WebP: canvas size from the VP8X, VP8 or VP8L chunk, orientation from
// the EXIF chunk of the extended format. Every chunk must lie inside the file.
#include <string_view>

#include <fmt/format.h>

#include "image/byte_reader.h"
#include "image/exif.h"
#include "image/header.h"

namespace dermlens::image::detail {
namespace {

constexpr std::size_t kFirstChunk = 12;  // after "RIFF" size "WEBP"
constexpr std::uint8_t kAnimationFlag = 0x02;
constexpr std::uint8_t kLosslessSignature = 0x2F;
const char * const kTruncated = "truncated WebP data: a chunk extends past the end of the file";

struct RiffChunk {
    std::string_view fourcc;
    std::span<const std::uint8_t> data;
    std::size_t next = 0;  // offset of the following chunk (sizes are padded to even)
};

RiffChunk chunk_at(const ByteReader & reader, std::size_t pos) {
    const auto fourcc = reader.slice(pos, 4);
    const std::size_t size = reader.u32(pos + 4);
    if (!reader.has(pos + 8, size)) {
        throw ImageRejected(kTruncated);
    }
    return {{reinterpret_cast<const char *>(fourcc.data()), 4}, reader.slice(pos + 8, size), pos + 8 + size + (size & 1)};
}

void read_lossy_size(std::span<const std::uint8_t> data, ImageHeader & header) {
    const ByteReader frame(data, Endian::Little, "WebP VP8 frame header");
    if (frame.u8(3) != 0x9D || frame.u8(4) != 0x01 || frame.u8(5) != 0x2A) {
        throw ImageRejected("corrupt WebP: bad VP8 start code");
    }
    header.width = frame.u16(6) & 0x3FFFu;
    header.height = frame.u16(8) & 0x3FFFu;
}

void read_lossless_size(std::span<const std::uint8_t> data, ImageHeader & header) {
    const ByteReader frame(data, Endian::Little, "WebP VP8L header");
    if (frame.u8(0) != kLosslessSignature) {
        throw ImageRejected("corrupt WebP: bad VP8L signature");
    }
    const std::uint32_t bits = frame.u32(1);
    header.width = (bits & 0x3FFFu) + 1;
    header.height = ((bits >> 14) & 0x3FFFu) + 1;
}

void read_extended(const ByteReader & reader, const RiffChunk & vp8x, ImageHeader & header) {
    const ByteReader fields(vp8x.data, Endian::Little, "WebP VP8X chunk");
    if (fields.u8(0) & kAnimationFlag) {
        throw ImageRejected("animated WebP is not supported");
    }
    header.width = fields.u24(4) + 1;
    header.height = fields.u24(7) + 1;
    for (std::size_t pos = vp8x.next; pos < reader.size();) {
        const RiffChunk chunk = chunk_at(reader, pos);
        if (chunk.fourcc == "EXIF") {
            header.orientation = exif_orientation(chunk.data);
            return;
        }
        pos = chunk.next;
    }
}

}  // namespace

ImageHeader read_webp_header(std::span<const std::uint8_t> bytes) {
    const ByteReader file(bytes, Endian::Little, "WebP data");
    const std::size_t riff_end = std::size_t{file.u32(4)} + 8;
    if (riff_end > bytes.size()) {
        throw ImageRejected(fmt::format("truncated WebP data: the RIFF header declares {} bytes, the file has {}",
                                        riff_end, bytes.size()));
    }
    const ByteReader reader(bytes.first(riff_end), Endian::Little, "WebP data");
    ImageHeader header;
    header.format = ImageFormat::Webp;
    const RiffChunk first = chunk_at(reader, kFirstChunk);
    if (first.fourcc == "VP8 ") {
        read_lossy_size(first.data, header);
    } else if (first.fourcc == "VP8L") {
        read_lossless_size(first.data, header);
    } else if (first.fourcc == "VP8X") {
        read_extended(reader, first, header);
    } else {
        throw ImageRejected("corrupt WebP: the first chunk is not VP8, VP8L or VP8X");
    }
    if (header.width == 0 || header.height == 0) {
        throw ImageRejected("corrupt WebP: zero image size");
    }
    return header;
}

}  // namespace dermlens::image::detail
