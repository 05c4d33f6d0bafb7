#include "common/atomic_file.h"

#include "dermlens/error.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <utility>

namespace dermlens {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(std::string_view what, const fs::path & path, const std::string & reason) {
    throw Error(ErrorKind::InvalidInput, fmt::format("{} '{}': {}", what, path.string(), reason));
}

// A file descriptor closed on every path out of the write, its temporary file removed unless
// it was renamed into place.
class TemporaryFile {
public:
    TemporaryFile(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
    TemporaryFile(const TemporaryFile &) = delete;
    TemporaryFile & operator=(const TemporaryFile &) = delete;
    ~TemporaryFile() {
        close_fd();
        if (!renamed_) {
            ::unlink(path_.c_str());
        }
    }
    int fd() const { return fd_; }
    const fs::path & path() const { return path_; }
    int close_fd() {
        const int result = fd_ >= 0 ? ::close(fd_) : 0;
        fd_ = -1;
        return result;
    }
    void mark_renamed() { renamed_ = true; }

private:
    int fd_;
    fs::path path_;
    bool renamed_ = false;
};

// open(O_EXCL) on a fresh name rather than mkstemp: mkstemp creates the file with mode 0600,
// and a written file should get the permissions the user's umask gives any other file.
TemporaryFile create_temporary(const fs::path & path, std::string_view what) {
    static std::atomic<unsigned> counter{0};
    std::random_device entropy;
    const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    for (int attempt = 0; attempt < 100; ++attempt) {
        const fs::path temporary = folder / fmt::format(".{}.{:x}{:x}{:x}.tmp", path.filename().string(), ::getpid(),
                                                        counter.fetch_add(1), entropy());
        const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            return TemporaryFile(fd, temporary);
        }
        if (errno == EEXIST) {
            continue;
        }
        const int error = errno;
        std::error_code ignored;
        if (error == ENOENT && !fs::is_directory(folder, ignored)) {
            fail(what, path, fmt::format("cannot create it: folder '{}' does not exist", folder.string()));
        }
        fail(what, path, fmt::format("cannot create it: {}", std::strerror(error)));
    }
    fail(what, path, "cannot create it: no free temporary name");
}

void write_all(const TemporaryFile & file, std::string_view bytes, const fs::path & path, std::string_view what) {
    while (!bytes.empty()) {
        const ssize_t written = ::write(file.fd(), bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail(what, path, fmt::format("write error: {}", std::strerror(errno)));
        }
        bytes.remove_prefix(static_cast<std::size_t>(written));
    }
}

// The file a rename must replace: a symbolic link's target (renaming over the link would cut it),
// and nothing that is not a regular file (`--report /dev/stdout` must not replace the device).
fs::path destination_of(const fs::path & path, std::string_view what) {
    std::error_code error;  // absent is fine: the status then says not_found
    fs::path target = path;
    if (fs::is_symlink(fs::symlink_status(path, error))) {
        target = fs::weakly_canonical(path, error);
        if (error) {
            fail(what, path, fmt::format("cannot resolve the link: {}", error.message()));
        }
    }
    const fs::file_status status = fs::status(target, error);
    if (fs::exists(status) && !fs::is_regular_file(status)) {
        fail(what, path, "cannot replace it: it is not a regular file");
    }
    return target;
}

}  // namespace

void write_file_atomically(const fs::path & path, std::string_view bytes, std::string_view what) {
    if (path.filename().empty()) {
        fail(what, path, "not a file name");
    }
    const fs::path target = destination_of(path, what);
    TemporaryFile file = create_temporary(target, what);
    write_all(file, bytes, path, what);
    if (::fsync(file.fd()) != 0) {
        fail(what, path, fmt::format("write error: {}", std::strerror(errno)));
    }
    if (file.close_fd() != 0) {
        fail(what, path, fmt::format("write error: {}", std::strerror(errno)));
    }
    if (::rename(file.path().c_str(), target.c_str()) != 0) {
        fail(what, path, fmt::format("cannot move it into place: {}", std::strerror(errno)));
    }
    // The folder is not fsynced: after a power cut the entry may still name the old file,
    // which is whole too.
    file.mark_renamed();
}

}  // namespace dermlens
