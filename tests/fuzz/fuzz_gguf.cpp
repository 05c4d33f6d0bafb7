// Harness: the GGUF pre-checks every model file passes before llama.cpp loads it
// (src/model/gguf_check.h): magic, ggml's header parser (gguf_init_from_file), tensor extents
// against the file size, the architecture and projector keys. The first byte picks the check
// (text model or mmproj); the rest is the file.
#include "fuzz_support.h"

#include "model/gguf_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const auto path = dermlens::fuzz::write_scratch("model.gguf", dermlens::fuzz::as_text(data + 1, size - 1));
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        if (data[0] % 2 == 0) {
            (void)dermlens::model::check_text_model(path);
        } else {
            (void)dermlens::model::check_projector(path);
        }
    });
    return 0;
}
