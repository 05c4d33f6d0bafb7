#include "common/data_dir.h"

#include <cstdlib>

namespace dermlens {

std::filesystem::path data_dir() {
    if (const char * env = std::getenv("DERMLENS_DATA_DIR"); env != nullptr && *env != '\0') {
        return env;
    }
    return DERMLENS_DEFAULT_DATA_DIR;
}

namespace {

std::filesystem::path env_path_or(const char * name, const std::filesystem::path & fallback) {
    const char * value = std::getenv(name);
    return value != nullptr && *value != '\0' ? std::filesystem::path(value) : fallback;
}

}  // namespace

std::filesystem::path cache_dir() {
    const char * home = std::getenv("HOME");
    const auto xdg = env_path_or("XDG_CACHE_HOME", std::filesystem::path(home ? home : ".") / ".cache");
    return env_path_or("DERMLENS_CACHE_DIR", xdg / "dermlens");
}

}  // namespace dermlens
