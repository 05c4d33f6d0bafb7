#include "common/file_lock.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace dermlens {

std::optional<FileLock> FileLock::try_acquire(const std::filesystem::path & file) {
    // O_CLOEXEC: a child process (a launcher, a plot viewer) must not inherit and outlive the lock.
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && (errno == EACCES || errno == EROFS)) {
        fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);  // flock needs no write access: a read-only copy of a run
    }
    if (fd < 0) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("lock file '{}': cannot open it: {}", file.string(), std::strerror(errno)));
    }
    int rc = 0;
    do {
        rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        const int error = errno;
        ::close(fd);
        if (error == EWOULDBLOCK) {
            return std::nullopt;
        }
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("lock file '{}': cannot lock it: {}", file.string(), std::strerror(error)));
    }
    return FileLock(file, fd);
}

FileLock::~FileLock() {
    if (fd_ >= 0) {
        ::close(fd_);  // closing the last descriptor of the open file releases the lock
    }
}

FileLock::FileLock(FileLock && other) noexcept : file_(std::move(other.file_)), fd_(std::exchange(other.fd_, -1)) {}

FileLock & FileLock::operator=(FileLock && other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        file_ = std::move(other.file_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

}  // namespace dermlens
