// dermlens's version and the llama.cpp source it was built from (`dermlens --version`).
#pragma once

namespace dermlens {

const char * version() noexcept;              // dermlens's semantic version
const char * llama_cpp_commit() noexcept;     // short commit of the llama.cpp source built in

}  // namespace dermlens
