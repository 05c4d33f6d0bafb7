// The shared ISIC images (../shared/data/images/isic9class/<label>/), in name order. Test-only.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace dermlens::test {

inline std::filesystem::path shared_image(const std::string & label, std::size_t n) {
    std::vector<std::filesystem::path> files;
    for (const auto & entry :
         std::filesystem::directory_iterator(std::filesystem::path(DERMLENS_SHARED_DIR) / "data/images/isic9class" / label)) {
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files.at(n);
}

}  // namespace dermlens::test
