// Harness: decoding an uploaded image end to end (src/image/image.h decode_image): header
// checks, OpenCV's decoders (libjpeg, libpng, libwebp, libtiff, BMP), orientation, bit-depth
// and alpha conversion. The pixel limit is lowered so that one input cannot take seconds: the
// header check that enforces it is the code under test, not the limit's value.
#include "fuzz_support.h"

#include "image/image.h"

#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    dermlens::image::DecodeLimits limits;
    limits.max_pixels = 1u << 20;
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto image = dermlens::image::decode_image(std::span<const std::uint8_t>(data, size), "fuzz input", limits);
        if (image.width <= 0 || image.height <= 0 ||
            image.rgb.size() != static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) * 3 ||
            static_cast<std::uint64_t>(image.width) * static_cast<std::uint64_t>(image.height) > limits.max_pixels) {
            std::fprintf(stderr, "fuzz: decoded image of %dx%d with %zu bytes\n", image.width, image.height,
                         image.rgb.size());
            std::abort();
        }
    });
    return 0;
}
