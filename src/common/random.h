// Seeded draws whose values the C++ standard fixes: std::mt19937_64's raw output
// mapped by our own code. (std::uniform_*_distribution's mapping is
// implementation-defined, so results would differ between standard libraries.)
#pragma once

#include <cstddef>
#include <random>
#include <utility>
#include <vector>

namespace dermlens {

std::size_t uniform_index(std::mt19937_64 & rng, std::size_t n);  // uniform on [0, n), n > 0
double uniform_unit(std::mt19937_64 & rng);                       // uniform on [0, 1), 53 random bits

// Fisher-Yates: every order of `items` equally likely.
template <typename T>
void shuffle(std::vector<T> & items, std::mt19937_64 & rng) {
    for (std::size_t i = items.size(); i > 1; --i) {
        std::swap(items[i - 1], items[uniform_index(rng, i)]);
    }
}

}  // namespace dermlens
