#include "common/random.h"

#include <cstdint>
#include <limits>

namespace dermlens {

std::size_t uniform_index(std::mt19937_64 & rng, std::size_t n) {
    const std::uint64_t bound = n;
    // Rejection of the outputs below 2^64 mod n, which would make the low residues more likely.
    const std::uint64_t threshold = (std::numeric_limits<std::uint64_t>::max() - bound + 1) % bound;
    std::uint64_t draw = rng();
    while (draw < threshold) {
        draw = rng();
    }
    return static_cast<std::size_t>(draw % bound);
}

double uniform_unit(std::mt19937_64 & rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace dermlens
