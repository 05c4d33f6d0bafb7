#include "common/file_hash_cache.h"

#include "common/atomic_file.h"
#include "common/data_dir.h"
#include "common/hash.h"
#include "dermlens/error.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace dermlens {
namespace {

namespace fs = std::filesystem;

// What must stay the same for a remembered hash to hold.
struct FileIdentity {
    unsigned long long device = 0;
    unsigned long long inode = 0;
    long long size = 0;
    long long mtime_ns = 0;

    bool operator==(const FileIdentity &) const = default;
};

struct Remembered {
    FileIdentity identity;
    std::string sha256;
};

std::optional<FileIdentity> identity_of(const fs::path & path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
        return std::nullopt;
    }
    return FileIdentity{static_cast<unsigned long long>(info.st_dev), static_cast<unsigned long long>(info.st_ino),
                        static_cast<long long>(info.st_size),
                        static_cast<long long>(info.st_mtim.tv_sec) * 1'000'000'000LL + info.st_mtim.tv_nsec};
}

// Line: "SHA256 DEVICE INODE SIZE MTIME_NS PATH" (the path last: it may hold spaces). Lines that
// do not read so are dropped, which only means hashing those files again.
std::map<std::string, Remembered> read_store(const fs::path & store) {
    std::map<std::string, Remembered> files;
    std::ifstream in(store);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        Remembered entry;
        std::string path;
        if (fields >> entry.sha256 >> entry.identity.device >> entry.identity.inode >> entry.identity.size >>
                entry.identity.mtime_ns &&
            fields.get() == ' ' && std::getline(fields, path) && entry.sha256.size() == 64 && !path.empty()) {
            files[path] = entry;
        }
    }
    return files;
}

void write_store(const fs::path & store, const std::map<std::string, Remembered> & files) {
    std::string text;
    for (const auto & [path, entry] : files) {
        const FileIdentity & id = entry.identity;
        text += fmt::format("{} {} {} {} {} {}\n", entry.sha256, id.device, id.inode, id.size, id.mtime_ns, path);
    }
    try {
        fs::create_directories(store.parent_path());
        write_file_atomically(store, text, "file hash store");
    } catch (const std::exception &) {
        // Remembering is an optimisation: a read-only cache folder costs hashing, not the answer.
    }
}

}  // namespace

std::string sha256_file_remembered(const fs::path & path, const fs::path & store) {
    std::error_code error;
    const fs::path absolute = fs::weakly_canonical(path, error);
    const std::string key = error ? path.string() : absolute.string();
    const std::optional<FileIdentity> before = identity_of(path);
    std::map<std::string, Remembered> files = read_store(store);
    if (const auto found = files.find(key); before && found != files.end() && found->second.identity == *before) {
        return found->second.sha256;
    }
    const std::string sha256 = sha256_file(path);
    // A file written while it was hashed is not remembered: its hash may mix two versions.
    if (before && key.find('\n') == std::string::npos && identity_of(path) == before) {
        std::erase_if(files, [](const auto & entry) { return !identity_of(entry.first); });  // deleted files
        files[key] = {*before, sha256};
        write_store(store, files);
    }
    return sha256;
}

std::string sha256_model_file(const fs::path & path) {
    return sha256_file_remembered(path, cache_dir() / "file-hashes.txt");
}

}  // namespace dermlens
