// Bounds-checked reads of integers from untrusted bytes, plus the internal
// exception the header parsers throw; decode_image turns it into a
// dermlens::Error that names the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

namespace dermlens::image::detail {

// Why an input cannot be used, without the file name (added by the caller).
class ImageRejected : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class Endian { Little, Big };

class ByteReader {
public:
    // `what` names the data in errors, e.g. "PNG data".
    ByteReader(std::span<const std::uint8_t> bytes, Endian endian, std::string what)
        : bytes_(bytes), endian_(endian), what_(std::move(what)) {}

    std::size_t size() const noexcept { return bytes_.size(); }
    bool has(std::size_t offset, std::size_t count) const noexcept {
        return offset <= bytes_.size() && count <= bytes_.size() - offset;
    }

    std::uint8_t u8(std::size_t offset) const { return slice(offset, 1)[0]; }
    std::uint16_t u16(std::size_t offset) const { return static_cast<std::uint16_t>(read(offset, 2)); }
    std::uint32_t u24(std::size_t offset) const { return static_cast<std::uint32_t>(read(offset, 3)); }
    std::uint32_t u32(std::size_t offset) const { return static_cast<std::uint32_t>(read(offset, 4)); }

    std::span<const std::uint8_t> slice(std::size_t offset, std::size_t count) const {
        if (!has(offset, count)) {
            throw ImageRejected("truncated or corrupt file: " + what_ + " ends early");
        }
        return bytes_.subspan(offset, count);
    }

private:
    std::uint64_t read(std::size_t offset, std::size_t count) const {
        const auto field = slice(offset, count);
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t index = endian_ == Endian::Big ? i : count - 1 - i;
            value = (value << 8) | field[index];
        }
        return value;
    }

    std::span<const std::uint8_t> bytes_;
    Endian endian_;
    std::string what_;
};

}  // namespace dermlens::image::detail
