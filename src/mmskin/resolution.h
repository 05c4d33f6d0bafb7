// Paper 001 (MM-Skin, 3.1.1): "Each image in the pair is ensured to have a resolution of at least
// 300 x 300 pixels." The image's size comes from its file header (no pixel is decoded).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace dermlens::mmskin {

struct ImageSize {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
};

// Throws Error(InvalidInput) naming the file and why for an unreadable, unknown or broken image.
ImageSize read_image_size(const std::filesystem::path & file);

// "" when both sides are at least `min_side`; else the reason ("200 x 450 pixels: a side is under 300").
std::string resolution_problem(ImageSize size, std::uint32_t min_side);

}  // namespace dermlens::mmskin
