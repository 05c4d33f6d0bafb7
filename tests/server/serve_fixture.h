// `dermlens serve` started by a test and stopped by it: on a generated tiny Gemma 3 pair, on a
// free port (`--port 0`, read back from its first line), one ggml thread; and a client of it.
#pragma once

#include "engine/engine_fixture.h"
#include "model/testmodel.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace dermlens::test {

class ServeProcess {
public:
    // Starts the server with `args` after the model pair; waits for its port, and with
    // `wait_ready` for /health to answer 200.
    explicit ServeProcess(const std::vector<std::string> & args, bool wait_ready = true,
                          const testmodel::Files & files = TinyModel::shared().files) {
        std::vector<std::string> argv = {DERMLENS_CLI, "serve", "-m", files.model.string(), "--mmproj",
                                         files.mmproj.string(), "--port", "0", "--threads", "1"};
        argv.insert(argv.end(), args.begin(), args.end());
        process_ = start_process(argv);
        const std::regex listening("listening on http://[^:]+:([0-9]+)/");
        for (int waited = 0; waited < 600 && port_ == 0; ++waited) {
            std::smatch match;
            const std::string out = read_text_file(process_.out_path);
            if (std::regex_search(out, match, listening)) {
                port_ = std::stoi(match[1].str());
            } else if (exited()) {
                break;
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
        if (port_ == 0) {
            if (!wait_ready) return;  // a test of a server that cannot start
            ADD_FAILURE() << "the server did not start: " << (result_ ? result_->err : read_text_file(process_.err_path));
            return;
        }
        for (int waited = 0; wait_ready && waited < 1200; ++waited) {
            if (auto res = client().Get("/health"); res && res->status == 200) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (wait_ready) ADD_FAILURE() << "the server did not get ready: " << read_text_file(process_.err_path);
    }
    ~ServeProcess() {
        if (!stopped_) stop();
    }

    int port() const { return port_; }
    pid_t pid() const { return process_.pid; }
    httplib::Client client(int read_timeout_s = 120) const {
        httplib::Client client("127.0.0.1", port_);
        client.set_read_timeout(read_timeout_s);
        client.set_connection_timeout(10);
        return client;
    }
    bool exited() {
        if (result_) return true;
        int status = 0;
        if (::waitpid(process_.pid, &status, WNOHANG) == process_.pid) {
            result_ = ProcessResult{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text_file(process_.out_path),
                                    read_text_file(process_.err_path)};
            std::filesystem::remove(process_.out_path);
            std::filesystem::remove(process_.err_path);
            stopped_ = true;
        }
        return result_.has_value();
    }
    void signal(int number) const { ::kill(process_.pid, number); }
    // Until it exits by itself, then the exit code and output.
    ProcessResult wait() {
        if (!result_) result_ = wait_process(process_);
        stopped_ = true;
        return *result_;
    }
    // SIGTERM, then the exit code and output.
    ProcessResult stop() {
        if (!result_) {
            signal(SIGTERM);
            result_ = wait_process(process_);
        }
        stopped_ = true;
        return *result_;
    }
    std::string err() const { return read_text_file(process_.err_path); }

private:
    StartedProcess process_;
    int port_ = 0;
    bool stopped_ = false;
    std::optional<ProcessResult> result_;
};

inline nlohmann::json json_of(const httplib::Result & res) {
    return res ? nlohmann::json::parse(res->body, nullptr, false) : nlohmann::json();
}

}  // namespace dermlens::test
