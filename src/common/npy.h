// numpy's .npy array format (version 1.0) for the arrays dermlens hands to Python: float32,
// little-endian, C order, readable with numpy.load. Only the encoding: each writer puts the
// bytes in its file and words its own errors (it knows what the file is for).
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace dermlens {

// The bytes of a .npy file holding `values` as a float32 array of `shape` (C order: the last
// axis varies fastest). Throws Error(InvalidArgument) when the shape does not hold exactly
// values.size() elements.
std::string npy_float32(std::span<const float> values, std::span<const std::size_t> shape);

}  // namespace dermlens
