#include "fuzz_support.h"

#include <unistd.h>

#include <fstream>

namespace dermlens::fuzz {
namespace {

namespace fs = std::filesystem;

fs::path scratch_root() {
    std::error_code ec;
    if (const char * tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') {
        return tmp;
    }
    return fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
}

// Removes the folder at exit; libFuzzer exits through exit() after a campaign or a finding.
struct Scratch {
    fs::path path = scratch_root() / ("dermlens_fuzz_" + std::to_string(::getpid()));
    Scratch() {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

}  // namespace

const fs::path & scratch_dir() {
    static const Scratch scratch;
    return scratch.path;
}

fs::path write_scratch(const std::string & name, std::string_view bytes) {
    const fs::path path = scratch_dir() / name;
    if (path.has_parent_path()) {
        fs::create_directories(path.parent_path());
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) {
        std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
        std::abort();
    }
    return path;
}

void clear_scratch() {
    for (const auto & entry : fs::directory_iterator(scratch_dir())) {
        fs::remove_all(entry.path());
    }
}

std::vector<std::string_view> split_parts(std::string_view text, std::string_view separator) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t at = text.find(separator, start);
        if (at == std::string_view::npos) {
            parts.push_back(text.substr(start));
            return parts;
        }
        parts.push_back(text.substr(start, at - start));
        start = at + separator.size();
    }
}

}  // namespace dermlens::fuzz
