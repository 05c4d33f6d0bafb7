// The regression replay of one libFuzzer harness in the normal build (docs/fuzzing.md): every
// file of tests/fuzz/regressions/<harness>/ (inputs that once crashed, hung or leaked) and of
// tests/fuzz/corpus/<harness>/ (the hand-made seeds) goes through the harness's own entry
// point, so a fixed finding stays fixed without clang. The binary seeds are not committed:
// make_seeds.py writes them (GGUF, .npy, run stores, tiny images) and the image harnesses also
// replay the decoder corpus of ../shared/data/decoders when it is there. A regression aborts the test binary
// (the harness aborts on any exception other than dermlens::Error); ASan and UBSan catch
// memory errors when the sanitize tier runs instrumented.
#include <gtest/gtest.h>

#include "support/temp_dir.h"

#include <algorithm>
#include <cstdlib>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> files_in(const fs::path & folder) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file()) {
            files.push_back(it->path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::uint8_t> bytes_of(const fs::path & file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t replay(const fs::path & folder) {
    const auto files = files_in(folder);
    for (const auto & file : files) {
        SCOPED_TRACE(file.string());
        const auto bytes = bytes_of(file);
        EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()), 0) << file;
    }
    return files.size();
}

const fs::path kFuzzDir = fs::path(DERMLENS_SOURCE_DIR) / "tests" / "fuzz";

std::size_t replay_generated_seeds() {
    dermlens::test::TempDir dir("fuzz_seeds");
    const std::string command = std::string(DERMLENS_PYTHON) + " " + (kFuzzDir / "make_seeds.py").string() + " " +
                                DERMLENS_FUZZ_HARNESS + " " + dir.path().string();
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return replay(dir.path());
}

}  // namespace

// One suite per harness (DERMLENS_FUZZ_SUITE, e.g. FuzzReplay_fuzz_csv) so that ctest's names of
// the sixteen replay binaries differ; the indirection expands the macro before TEST pastes it.
#define DERMLENS_REPLAY_TEST(suite, name) TEST(suite, name)

DERMLENS_REPLAY_TEST(DERMLENS_FUZZ_SUITE, RegressionInputsAndSeedsPassTheHarness) {
    const std::size_t regressions = replay(kFuzzDir / "regressions" / DERMLENS_FUZZ_HARNESS);
    std::size_t seeds = replay(kFuzzDir / "corpus" / DERMLENS_FUZZ_HARNESS) + replay_generated_seeds();
    if (std::string_view(DERMLENS_FUZZ_HARNESS).starts_with("fuzz_image_")) {
        seeds += replay(fs::path(DERMLENS_SHARED_DIR) / "data" / "decoders");
    }
    EXPECT_GT(regressions + seeds, 0u) << "no regression inputs and no seeds for " << DERMLENS_FUZZ_HARNESS;
}

DERMLENS_REPLAY_TEST(DERMLENS_FUZZ_SUITE, EmptyAndOneByteInputsPassTheHarness) {
    EXPECT_EQ(LLVMFuzzerTestOneInput(nullptr, 0), 0);
    for (int byte = 0; byte < 256; byte += 17) {
        const auto value = static_cast<std::uint8_t>(byte);
        EXPECT_EQ(LLVMFuzzerTestOneInput(&value, 1), 0);
    }
}
