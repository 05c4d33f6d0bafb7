#include "dermlens/version.h"

namespace dermlens {

const char * version() noexcept { return DERMLENS_VERSION; }
const char * llama_cpp_commit() noexcept { return DERMLENS_LLAMA_COMMIT; }

}  // namespace dermlens
