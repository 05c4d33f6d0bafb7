#include "common/npy.h"

#include "dermlens/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <bit>
#include <cstdint>
#include <functional>
#include <numeric>
#include <string_view>

namespace dermlens {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";

// numpy's spelling of a shape tuple: "(3,)", "(2, 4)".
std::string shape_tuple(std::span<const std::size_t> shape) {
    if (shape.size() == 1) {
        return fmt::format("({},)", shape[0]);
    }
    return fmt::format("({})", fmt::join(shape, ", "));
}

}  // namespace

std::string npy_float32(std::span<const float> values, std::span<const std::size_t> shape) {
    static_assert(std::endian::native == std::endian::little, "dermlens writes .npy data on little-endian hosts");
    const std::size_t elements = std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
    if (elements != values.size()) {
        throw Error(ErrorKind::InvalidArgument, fmt::format(".npy array of shape {} holds {} values, not {}",
                                                            shape_tuple(shape), elements, values.size()));
    }
    std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': {}, }}", shape_tuple(shape));
    // Pad with spaces so that magic + version + length + header (ending in '\n') is a multiple of 64 bytes.
    const std::size_t unpadded = kMagic.size() + 2 + 2 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::string out(kMagic);
    out += '\x01';
    out += '\x00';
    const auto length = static_cast<std::uint16_t>(header.size());
    out += static_cast<char>(length & 0xff);
    out += static_cast<char>(length >> 8);
    out += header;
    out.append(reinterpret_cast<const char *>(values.data()), values.size() * sizeof(float));
    return out;
}

}  // namespace dermlens
