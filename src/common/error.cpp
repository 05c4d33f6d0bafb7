#include "dermlens/error.h"

namespace dermlens {

const char * error_kind_name(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::InvalidArgument: return "invalid_argument";
        case ErrorKind::InvalidInput:    return "invalid_input";
        case ErrorKind::InvalidModel:    return "invalid_model";
        case ErrorKind::Runtime:         return "runtime";
        case ErrorKind::Cancelled:       return "cancelled";
    }
    return "unknown";
}

}  // namespace dermlens
