#include "common/data_dir.h"

#include <cstdlib>

namespace dermlens {

std::filesystem::path data_dir() {
    if (const char * env = std::getenv("DERMLENS_DATA_DIR"); env != nullptr && *env != '\0') {
        return env;
    }
    return DERMLENS_DEFAULT_DATA_DIR;
}

}  // namespace dermlens
