// Runs a program with an argument vector (no shell, so prompts need no quoting)
// and captures its exit code, stdout and stderr. Test-only helper.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace dermlens::test {

struct ProcessResult {
    int exit_code = -1;  // -1 when the process did not exit normally
    std::string out;
    std::string err;
};

inline std::string read_text_file(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// `env` entries ("NAME=value") are added to the child's environment.
inline ProcessResult run_process(const std::vector<std::string> & argv,
                                 const std::vector<std::pair<std::string, std::string>> & env = {}) {
    const auto dir = std::filesystem::temp_directory_path();
    static int counter = 0;
    const std::string tag = std::to_string(::getpid()) + "_" + std::to_string(++counter);
    const auto out_path = dir / ("dermlens_proc_" + tag + ".out");
    const auto err_path = dir / ("dermlens_proc_" + tag + ".err");
    std::fflush(nullptr);  // or the child's freopen would write the parent's buffered output a second time
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::FILE * out = std::freopen(out_path.c_str(), "w", stdout);
        std::FILE * err = std::freopen(err_path.c_str(), "w", stderr);
        if (out == nullptr || err == nullptr) {
            ::_exit(126);
        }
        for (const auto & [name, value] : env) {
            ::setenv(name.c_str(), value.c_str(), 1);
        }
        std::vector<char *> args;
        for (const auto & arg : argv) {
            args.push_back(const_cast<char *>(arg.c_str()));
        }
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ProcessResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_text_file(out_path);
    result.err = read_text_file(err_path);
    std::filesystem::remove(out_path);
    std::filesystem::remove(err_path);
    return result;
}

}  // namespace dermlens::test
