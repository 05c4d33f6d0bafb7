// dermlens::Error — the one exception type that crosses module boundaries.
//
// Internals throw Error with a kind and a message that names the input and the reason
// ("image 'x.jpg': truncated JPEG data"). A message about a parameter starts with the
// parameter's name and carries it as field(), so that a front end can say it in its own
// words: the CLI's flag (--top-k), the server's JSON field, the Python keyword. Front ends
// catch Error at their boundary and map the kind to an exit code or an HTTP status; the
// library itself knows neither.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace dermlens {

enum class ErrorKind {
    InvalidArgument,  // bad parameter values, unknown labels
    InvalidInput,     // unreadable / corrupt / oversized image, bad CSV or JSON
    InvalidModel,     // missing, non-GGUF, truncated or mismatched model files
    Runtime,          // inference failed (out of memory, decode error), or a defect below (an internal error)
    Cancelled,        // the caller's should-stop callback asked to stop
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string & message, std::string field = {})
        : std::runtime_error(message), kind_(kind), field_(std::move(field)) {}
    ErrorKind kind() const noexcept { return kind_; }
    // The parameter the message is about ("top_k", "probe"), when it is about one; the
    // message then starts with it.
    const std::string & field() const noexcept { return field_; }

private:
    ErrorKind kind_;
    std::string field_;
};

// "invalid_argument", "invalid_input", "invalid_model", "runtime", "cancelled".
const char * error_kind_name(ErrorKind kind) noexcept;

}  // namespace dermlens
