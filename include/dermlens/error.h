// dermlens::Error — the one exception type that crosses module boundaries.
//
// Internals throw Error with a kind and a message that names the input and the
// reason ("image 'x.jpg': truncated JPEG data"). Front ends (CLI, server) catch
// it at their boundary and map the kind to an exit code / HTTP status.
#pragma once

#include <stdexcept>
#include <string>

namespace dermlens {

enum class ErrorKind {
    InvalidArgument = 2,  // bad option values, unknown labels
    InvalidInput    = 3,  // unreadable / corrupt / oversized image, bad CSV
    InvalidModel    = 4,  // missing, non-GGUF, truncated or mismatched model files
    Runtime         = 5,  // inference failed (out of memory, decode error)
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string & message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }
    int exit_code() const noexcept { return static_cast<int>(kind_); }

private:
    ErrorKind kind_;
};

const char * error_kind_name(ErrorKind kind) noexcept;

}  // namespace dermlens
