// How the CLI says a library error: the exit code of its kind (README "Exit codes") and the
// message with a parameter's name replaced by the flag that sets it ("top_k 0: ..." becomes
// "--top-k 0: ..."), since a person at a shell knows the flags, not the library's fields.
#pragma once

#include "dermlens/error.h"

#include <string>

namespace dermlens::cli {

// 2 invalid argument, 3 invalid input, 4 invalid model, 5 runtime failure or cancelled.
int exit_code(ErrorKind kind) noexcept;

// The flag of a library parameter: --ctx for context_size, --cache for embedding_cache, ...,
// else "--" and the name with '-' for '_'.
std::string flag_of(const std::string & field);

// The error's message, its leading parameter name (Error::field()) said as the flag.
std::string cli_message(const Error & error);

}  // namespace dermlens::cli
