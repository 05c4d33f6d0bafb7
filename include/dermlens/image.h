// dermlens::Image — one photo to diagnose, from a file, from bytes in memory or from pixels.
//
// Formats: JPEG (baseline, progressive, CMYK), PNG (8/16-bit, palette, grey, alpha), WebP,
// BMP and TIFF; EXIF orientation is applied (docs/image-input.md). Size limits are checked
// from the header before decoding. An Image is a cheap handle: copies share the bytes, the
// SHA-256 (the embedding cache's key) and, once decoded, the pixels. Decoding is lazy: an
// image whose encoding the embedding cache holds is never decoded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace dermlens {

struct DecodeLimits {
    std::uint64_t max_pixels = 100'000'000;     // 100 megapixels, checked from the header BEFORE decoding
    std::uint64_t max_file_bytes = 1ull << 30;  // refuse absurd files before reading them
};

class Image {
public:
    // The file's bytes are hashed now; decoding waits for the first use of the pixels.
    // Throws Error(InvalidInput) naming the file when it is missing or unreadable. `name`
    // is what reports call the image (default: the path as given).
    static Image from_file(const std::filesystem::path & path, const DecodeLimits & limits = {}, std::string name = {});
    // An encoded image held in memory (an upload); `name` names it in messages and reports.
    static Image from_bytes(std::span<const std::uint8_t> bytes, std::string name, const DecodeLimits & limits = {});
    // Decoded 8-bit RGB, row-major, width * height * 3 bytes (copied). Throws
    // Error(InvalidInput) for a size that does not match or exceeds `limits`.
    static Image from_rgb(int width, int height, std::span<const std::uint8_t> rgb, std::string name,
                          const DecodeLimits & limits = {});

    const std::string & name() const noexcept;
    const std::string & sha256() const noexcept;  // of the file's or the buffer's bytes; of the pixels for from_rgb
    // Decodes on first use (throws Error(InvalidInput) naming the image), then returns the pixels.
    int width() const;
    int height() const;
    std::span<const std::uint8_t> rgb() const;  // width * height * 3 bytes

private:
    struct Impl;
    explicit Image(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace dermlens
