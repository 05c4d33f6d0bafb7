#include "common/data_dir.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <system_error>

namespace dermlens {
namespace {

std::filesystem::path env_path_or(const char * name, const std::filesystem::path & fallback) {
    const char * value = std::getenv(name);
    return value != nullptr && *value != '\0' ? std::filesystem::path(value) : fallback;
}

std::mutex & data_dir_mutex() {
    static std::mutex mutex;
    return mutex;
}

std::filesystem::path & chosen_data_dir() {
    static std::filesystem::path dir;
    return dir;
}

// <prefix>/share/dermlens when the object holding this code (the executable, libdermlens.so or
// the Python module) sits in an installed prefix's bin/, lib/ or the module's own folder.
std::filesystem::path installed_data_dir() {
    static const char anchor = 0;  // an object of this library, to ask the loader where it lives
    Dl_info info{};
    if (dladdr(&anchor, &info) == 0 || info.dli_fname == nullptr) {
        return {};
    }
    std::error_code error;
    const std::filesystem::path object = std::filesystem::canonical(info.dli_fname, error);
    if (error) {
        return {};
    }
    for (const auto & candidate : {object.parent_path().parent_path() / "share" / "dermlens",
                                   object.parent_path() / "share" / "dermlens"}) {
        if (std::filesystem::is_directory(candidate / "kb", error)) {
            return candidate;
        }
    }
    return {};
}

}  // namespace

std::filesystem::path data_dir() {
    {
        const std::lock_guard lock(data_dir_mutex());
        if (!chosen_data_dir().empty()) {
            return chosen_data_dir();
        }
    }
    if (const char * env = std::getenv("DERMLENS_DATA_DIR"); env != nullptr && *env != '\0') {
        return env;
    }
    static const std::filesystem::path installed = installed_data_dir();
    return installed.empty() ? std::filesystem::path(DERMLENS_DEFAULT_DATA_DIR) : installed;
}

void set_data_dir(const std::filesystem::path & dir) {
    const std::lock_guard lock(data_dir_mutex());
    chosen_data_dir() = dir;
}

std::filesystem::path cache_dir() {
    const char * home = std::getenv("HOME");
    const auto xdg = env_path_or("XDG_CACHE_HOME", std::filesystem::path(home ? home : ".") / ".cache");
    return env_path_or("DERMLENS_CACHE_DIR", xdg / "dermlens");
}

}  // namespace dermlens
