// Harness: reading a feature table from .npy and its .npy.csv sidecar
// (src/vision/feature_table.h read_feature_table): the NumPy header dict, dtype, shape and
// order, the data size, the sidecar's rows. The input is the .npy bytes, then (after the
// separator line below, in the dictionary) the sidecar's text; without it there is no sidecar.
#include "fuzz_support.h"

#include "vision/feature_table.h"

namespace {
constexpr std::string_view kSidecarSeparator = "\n--sidecar--\n";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    const auto parts = dermlens::fuzz::split_parts(dermlens::fuzz::as_text(data, size), kSidecarSeparator);
    dermlens::fuzz::clear_scratch();
    const auto path = dermlens::fuzz::write_scratch("features.npy", parts[0]);
    if (parts.size() > 1) {
        dermlens::fuzz::write_scratch("features.npy.csv", parts[1]);
    }
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto table = dermlens::vision::read_feature_table(path);
        if (static_cast<std::size_t>(table.features.rows()) != table.size()) {
            std::abort();
        }
    });
    return 0;
}
