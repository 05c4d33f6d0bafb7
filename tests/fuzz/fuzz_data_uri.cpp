// Harness: an image inside a JSON request of the server (tools/server/data_uri.h
// decode_image_field): a data URI or bare base64, line breaks and padding, URLs refused. What
// it decodes must encode back to the same base64 (without the breaks), and bytes encoded must
// decode back to themselves.
#include "fuzz_support.h"

#include "data_uri.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    const std::string_view text = dermlens::fuzz::as_text(data, size);
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const std::vector<std::uint8_t> bytes = dermlens::server::decode_image_field(text, "image");
        const std::string again = dermlens::server::base64_encode(bytes);
        if (dermlens::server::decode_image_field(again, "image") != bytes) {
            std::abort();
        }
    });
    const std::vector<std::uint8_t> raw(data, data + size);
    if (!raw.empty() && dermlens::server::decode_image_field(dermlens::server::base64_encode(raw), "image") != raw) {
        std::abort();  // no Error is expected here: the encoder's own output must decode
    }
    return 0;
}
