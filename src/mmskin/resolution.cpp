#include "mmskin/resolution.h"

#include "dermlens/error.h"
#include "image/byte_reader.h"
#include "image/header.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <vector>

namespace dermlens::mmskin {

ImageSize read_image_size(const std::filesystem::path & file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::InvalidInput, fmt::format("image '{}': cannot read it", file.string()), "image");
    }
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
        const image::detail::ImageHeader header = image::detail::read_header(bytes);
        return {header.width, header.height};
    } catch (const image::detail::ImageRejected & e) {
        throw Error(ErrorKind::InvalidInput, fmt::format("image '{}': {}", file.string(), e.what()), "image");
    }
}

std::string resolution_problem(ImageSize size, std::uint32_t min_side) {
    if (size.width >= min_side && size.height >= min_side) {
        return "";
    }
    return fmt::format("{} x {} pixels: a side is under {}", size.width, size.height, min_side);
}

}  // namespace dermlens::mmskin
