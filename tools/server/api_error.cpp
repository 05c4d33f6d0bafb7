#include "api_error.h"

namespace dermlens::server {

nlohmann::ordered_json ApiError::body() const {
    return {{"error", {{"code", status}, {"type", type}, {"message", message}}}};
}

std::string error_type_of_status(int status) {
    switch (status) {
        case 401: return "authentication_error";
        case 404: return "not_found_error";
        case 429:
        case 503: return "unavailable_error";
        default: return status < 500 ? "invalid_request_error" : "server_error";
    }
}

ApiError api_error(const Error & error) {
    switch (error.kind()) {
        case ErrorKind::InvalidArgument:
        case ErrorKind::InvalidInput: return bad_request(error.what());
        case ErrorKind::Cancelled: return unavailable(error.what());
        case ErrorKind::InvalidModel:
        case ErrorKind::Runtime: break;
    }
    return {500, "server_error", error.what()};
}

ApiError bad_request(const std::string & message) {
    return {400, "invalid_request_error", message};
}

ApiError not_found(const std::string & message) {
    return {404, "not_found_error", message};
}

ApiError unavailable(const std::string & message) {
    return {503, "unavailable_error", message};
}

ApiError unauthorized() {
    return {401, "authentication_error", "invalid or missing API key (Authorization: Bearer KEY or X-Api-Key: KEY)"};
}

ApiError too_large(const std::string & message) {
    return {413, "invalid_request_error", message};
}

ApiError unsupported_media(const std::string & message) {
    return {415, "invalid_request_error", message};
}

ApiError queue_full() {
    return {429, "unavailable_error", "the request queue is full: retry after the time Retry-After gives"};
}

}  // namespace dermlens::server
