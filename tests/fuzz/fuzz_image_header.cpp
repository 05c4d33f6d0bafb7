// Harness: the image container header walk (JPEG, PNG, WebP, BMP, TIFF) and the EXIF / TIFF
// IFD reader, before any pixel is decoded (src/image/header.h, exif.h). ImageRejected is the
// header walk's refusal (decode_image turns it into dermlens::Error naming the file).
#include "fuzz_support.h"

#include "image/byte_reader.h"
#include "image/exif.h"
#include "image/header.h"

#include <span>

using namespace dermlens::image::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        try {
            const ImageHeader header = read_header(bytes);
            if (header.width == 0 || header.height == 0 || header.orientation < 1 || header.orientation > 8) {
                std::fprintf(stderr, "fuzz: header accepted with size %ux%u, orientation %d\n", header.width,
                             header.height, header.orientation);
                std::abort();
            }
        } catch (const ImageRejected &) {
        }
        const int orientation = exif_orientation(bytes);  // never throws: broken EXIF reads as 1
        if (orientation < 1 || orientation > 8) {
            std::abort();
        }
        try {
            (void)first_ifd_value(bytes, kTiffTagOrientation);
        } catch (const ImageRejected &) {
        }
    });
    return 0;
}
