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

// A child running in the background, its stdout and stderr going to files.
struct StartedProcess {
    pid_t pid = -1;
    std::filesystem::path out_path;
    std::filesystem::path err_path;
};

// `env` entries ("NAME=value") are added to the child's environment.
inline StartedProcess start_process(const std::vector<std::string> & argv,
                                    const std::vector<std::pair<std::string, std::string>> & env = {}) {
    const auto dir = std::filesystem::temp_directory_path();
    static int counter = 0;
    const std::string tag = std::to_string(::getpid()) + "_" + std::to_string(++counter);
    StartedProcess started{-1, dir / ("dermlens_proc_" + tag + ".out"), dir / ("dermlens_proc_" + tag + ".err")};
    std::fflush(nullptr);  // or the child's freopen would write the parent's buffered output a second time
    started.pid = ::fork();
    if (started.pid == 0) {
        std::FILE * out = std::freopen(started.out_path.c_str(), "w", stdout);
        std::FILE * err = std::freopen(started.err_path.c_str(), "w", stderr);
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
    return started;
}

// Waits for the child; exit_code is -1 when it did not exit normally (e.g. killed).
inline ProcessResult wait_process(const StartedProcess & started) {
    int status = 0;
    ::waitpid(started.pid, &status, 0);
    ProcessResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_text_file(started.out_path);
    result.err = read_text_file(started.err_path);
    std::filesystem::remove(started.out_path);
    std::filesystem::remove(started.err_path);
    return result;
}

inline ProcessResult run_process(const std::vector<std::string> & argv,
                                 const std::vector<std::pair<std::string, std::string>> & env = {}) {
    return wait_process(start_process(argv, env));
}

}  // namespace dermlens::test
