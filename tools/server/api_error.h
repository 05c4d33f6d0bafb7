// The server's one error shape, {"error": {"code", "type", "message"}}, with llama-server's
// type names (invalid_request_error, authentication_error, not_found_error, server_error,
// unavailable_error) so that clients written for it read ours; and the HTTP status of each
// library ErrorKind, as tools/dermlens/cli_errors.h gives each its exit code (docs/server.md,
// "Errors").
#pragma once

#include "dermlens/error.h"

#include <nlohmann/json.hpp>

#include <string>

namespace dermlens::server {

struct ApiError {
    int status = 500;
    std::string type = "server_error";
    std::string message;

    nlohmann::ordered_json body() const;  // {"error": {"code": status, "type", "message"}}
};

// 400 for a bad argument or input (the message names the JSON field or the image), 503 for a
// cancelled call (timed out or the server draining), 500 for the model or inference failing.
ApiError api_error(const Error & error);

ApiError bad_request(const std::string & message);        // 400 invalid_request_error
ApiError not_found(const std::string & message);          // 404 not_found_error
ApiError unavailable(const std::string & message);        // 503 unavailable_error
ApiError unauthorized();                                  // 401 authentication_error
ApiError too_large(const std::string & message);          // 413 invalid_request_error
ApiError unsupported_media(const std::string & message);  // 415 invalid_request_error
ApiError queue_full();                                    // 429 unavailable_error

// The type of a status httplib produced on its own (404 of an unknown path, 413, 400 of a
// malformed request line), so that its answer has the same shape.
std::string error_type_of_status(int status);

}  // namespace dermlens::server
