// A fresh folder under the system temp directory, removed with everything in it when the
// object goes out of scope; plus a helper to write small text files. Test-only.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace dermlens::test {

class TempDir {
public:
    explicit TempDir(std::string_view tag) {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("dermlens_" + std::string(tag) + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir & operator=(const TempDir &) = delete;

    const std::filesystem::path & path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::filesystem::path & relative) const { return path_ / relative; }

private:
    std::filesystem::path path_;
};

// Writes `bytes` to `path` exactly (binary), creating its folder.
inline void write_file(const std::filesystem::path & path, std::string_view bytes) {
    if (path.has_parent_path()) {
        std::filesystem::create_directories(path.parent_path());
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace dermlens::test
