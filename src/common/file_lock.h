// An exclusive advisory lock on a file (flock(2)), for "one writer at a time" on a run folder.
//
// The lock belongs to the open file: it is released when the FileLock is destroyed, and by the
// kernel when the process ends in any way (exit, crash, SIGKILL), so a killed writer never leaves
// a stale lock behind and its rerun can take the folder over at once. Two FileLocks on one file
// exclude each other within one process too. On NFS, Linux maps flock onto the server's byte-range
// locks, so the lock holds across the machines of a shared file system as well.
#pragma once

#include <filesystem>
#include <optional>

namespace dermlens {

class FileLock {
public:
    // The lock on `file` (created empty when absent), or nullopt when another holder has it.
    // Never waits. Throws Error(InvalidInput) naming the file when it cannot be opened or created.
    static std::optional<FileLock> try_acquire(const std::filesystem::path & file);

    ~FileLock();
    FileLock(FileLock && other) noexcept;
    FileLock & operator=(FileLock && other) noexcept;
    FileLock(const FileLock &) = delete;
    FileLock & operator=(const FileLock &) = delete;

    const std::filesystem::path & file() const noexcept { return file_; }

private:
    FileLock(std::filesystem::path file, int fd) : file_(std::move(file)), fd_(fd) {}

    std::filesystem::path file_;
    int fd_ = -1;
};

}  // namespace dermlens
