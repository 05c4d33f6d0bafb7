// What every libFuzzer harness of tests/fuzz/ shares (docs/fuzzing.md).
//
// A harness is one plain function, extern "C" int LLVMFuzzerTestOneInput(data, size), that
// feeds the bytes to one parser of untrusted input. The clang build (scripts/fuzz) links it
// with libFuzzer, ASan and UBSan; the normal GCC build links the same file into a replay test
// (replay_test.cpp) that feeds it every regression input and seed, so a fixed finding stays
// fixed without clang.
//
// The contract a harness checks: a parser either returns or throws dermlens::Error. Any other
// exception (a library's own, std::out_of_range, ...) is a finding: it would reach a front end
// as "internal error" instead of a message naming the input, so the harness aborts on it.
#pragma once

#include "dermlens/error.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::fuzz {

// Runs `parse`; dermlens::Error is the expected way to refuse bad input, anything else aborts.
template <typename Parse>
void expect_only_dermlens_errors(Parse && parse) {
    try {
        parse();
    } catch (const dermlens::Error &) {
        // a clear refusal: what the parser is for
    } catch (const std::exception & e) {
        std::fprintf(stderr, "fuzz: exception other than dermlens::Error escaped: %s\n", e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "fuzz: a non-std exception escaped\n");
        std::abort();
    }
}

// A folder of this process's own (under $TMPDIR, /dev/shm when it exists: the harnesses that
// read files write each input there), emptied and removed at exit.
const std::filesystem::path & scratch_dir();

// Writes the bytes to scratch_dir() / name (replacing it) and returns the path.
std::filesystem::path write_scratch(const std::string & name, std::string_view bytes);

// Removes everything inside scratch_dir() (between inputs that write several files).
void clear_scratch();

// The input as text, and split at each occurrence of `separator` (the dictionaries of the
// harnesses that take several parts list their separator).
inline std::string_view as_text(const std::uint8_t * data, std::size_t size) {
    return {reinterpret_cast<const char *>(data), size};
}
std::vector<std::string_view> split_parts(std::string_view text, std::string_view separator);

}  // namespace dermlens::fuzz
