// common/atomic_file.h: the bytes arrive whole, an existing file is replaced whole, no
// temporary file is left behind, and a write that cannot happen (no folder, a read-only
// folder, a folder in the destination's place) names the file and the reason and leaves
// the folder as it was.
#include "common/atomic_file.h"
#include "dermlens/error.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using dermlens::ErrorKind;
using dermlens::write_file_atomically;
using dermlens::test::expect_error;
using dermlens::test::TempDir;

std::string read_bytes(const fs::path & path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> entries(const fs::path & dir) {
    std::vector<std::string> names;
    for (const auto & entry : fs::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

TEST(AtomicFile, WritesTheBytesExactlyAndLeavesNoTemporary) {
    TempDir dir("atomic");
    std::string bytes(100000, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = static_cast<char>(i * 131 % 256);  // every byte value, NULs and newlines included
    }
    write_file_atomically(dir / "a.bin", bytes);
    EXPECT_EQ(read_bytes(dir / "a.bin"), bytes);
    write_file_atomically(dir / "empty.txt", "");
    EXPECT_TRUE(fs::exists(dir / "empty.txt"));
    EXPECT_EQ(fs::file_size(dir / "empty.txt"), 0u);
    EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"a.bin", "empty.txt"}));
}

TEST(AtomicFile, ReplacesAnExistingFileWhole) {
    TempDir dir("atomic");
    dermlens::test::write_file(dir / "r.json", std::string(5000, 'x'));
    write_file_atomically(dir / "r.json", "{}\n");  // shorter: nothing of the old file may remain
    EXPECT_EQ(read_bytes(dir / "r.json"), "{}\n");
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"r.json"});
}

TEST(AtomicFile, TheNewFileGetsTheUmasksPermissionsLikeAnyOther) {
    TempDir dir("atomic");
    const mode_t mask = ::umask(022);
    write_file_atomically(dir / "p.txt", "p");
    ::umask(mask);
    EXPECT_EQ(fs::status(dir / "p.txt").permissions(),
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

TEST(AtomicFile, AMissingFolderIsNamed) {
    TempDir dir("atomic");
    expect_error([&] { write_file_atomically(dir / "missing" / "s.csv", "a,b\n", "summary"); },
                 ErrorKind::InvalidInput,
                 {"summary '" + (dir / "missing" / "s.csv").string() + "'", "cannot create it",
                  "folder '" + (dir / "missing").string() + "' does not exist"});
    EXPECT_TRUE(entries(dir.path()).empty());
}

TEST(AtomicFile, WhatIsNotARegularFileIsNotReplaced) {
    TempDir dir("atomic");
    fs::create_directories(dir / "taken" / "inside");
    expect_error([&] { write_file_atomically(dir / "taken", "x", "report file"); }, ErrorKind::InvalidInput,
                 {"report file '" + (dir / "taken").string() + "'", "cannot replace it: it is not a regular file"});
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
    expect_error([&] { write_file_atomically(dir / "fifo", "x"); }, ErrorKind::InvalidInput,
                 {"file '" + (dir / "fifo").string() + "'", "not a regular file"});
    EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"fifo", "taken"}));
    EXPECT_TRUE(fs::is_directory(dir / "taken" / "inside"));
    EXPECT_TRUE(fs::is_fifo(dir / "fifo"));
}

TEST(AtomicFile, ASymbolicLinkIsFollowedNotReplaced) {
    TempDir dir("atomic");
    fs::create_directories(dir / "real");
    dermlens::test::write_file(dir / "real" / "p.probe", "old");
    fs::create_symlink(dir / "real" / "p.probe", dir / "link.probe");
    write_file_atomically(dir / "link.probe", "new");
    EXPECT_TRUE(fs::is_symlink(dir / "link.probe"));
    EXPECT_EQ(read_bytes(dir / "real" / "p.probe"), "new");
    EXPECT_EQ(entries(dir / "real"), std::vector<std::string>{"p.probe"});
}

// Root writes into any folder, so the write runs in a child that gives up root first.
TEST(AtomicFile, AReadOnlyFolderIsRefusedNamingTheFile) {
    TempDir dir("atomic");
    fs::create_directories(dir / "ro");
    dermlens::test::write_file(dir / "ro" / "old.txt", "old");
    fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(dir.path(), fs::perms::all);
    int channel[2];
    ASSERT_EQ(::pipe(channel), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(channel[0]);
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
            ::_exit(2);
        }
        std::string message = "(no error)";
        try {
            write_file_atomically(dir / "ro" / "old.txt", "new", "probe file");
        } catch (const dermlens::Error & e) {
            message = std::string(e.kind() == ErrorKind::InvalidInput ? "" : "wrong kind: ") + e.what();
        }
        const ssize_t written = ::write(channel[1], message.data(), message.size());
        ::_exit(written == static_cast<ssize_t>(message.size()) ? 0 : 3);
    }
    ::close(channel[1]);
    std::string message;
    char buffer[512];
    for (ssize_t n; (n = ::read(channel[0], buffer, sizeof buffer)) > 0;) {
        message.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(channel[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_EQ(message, "probe file '" + (dir / "ro" / "old.txt").string() + "': cannot create it: Permission denied");
    EXPECT_EQ(read_bytes(dir / "ro" / "old.txt"), "old");
    EXPECT_EQ(entries(dir / "ro"), std::vector<std::string>{"old.txt"});
    fs::permissions(dir / "ro", fs::perms::owner_all);  // so that TempDir can remove it
}

}  // namespace
