#include "rewards/data_files.h"

#include "common/data_dir.h"
#include "dermlens/error.h"

#include <nlohmann/json.hpp>
#include <fmt/format.h>

#include <fstream>
#include <mutex>

namespace dermlens::rewards {
namespace {

// <data_dir()>/rewards/<name>, parsed once per data folder.
const nlohmann::json & data_json(const std::string & name) {
    static std::mutex mutex;
    static std::map<std::string, nlohmann::json> cache;
    const auto path = data_dir() / "rewards" / name;
    const std::lock_guard lock(mutex);
    if (const auto it = cache.find(path.string()); it != cache.end()) {
        return it->second;
    }
    std::ifstream in(path);
    if (!in) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("rewards file '{}': cannot read it (set DERMLENS_DATA_DIR to dermlens's data/ folder)",
                                path.string()));
    }
    auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
    if (!json.is_object()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("rewards file '{}': not a JSON object", path.string()));
    }
    return cache.emplace(path.string(), std::move(json)).first->second;
}

const nlohmann::json & member(const std::string & file, const char * key) {
    const auto & json = data_json(file);
    if (!json.contains(key)) {
        throw Error(ErrorKind::InvalidInput, fmt::format("rewards file '{}': no \"{}\"", file, key));
    }
    return json[key];
}

template <typename T>
T read_member(const std::string & file, const char * key) {
    try {
        return member(file, key).get<T>();
    } catch (const nlohmann::json::exception & e) {
        throw Error(ErrorKind::InvalidInput, fmt::format("rewards file '{}': \"{}\": {}", file, key, e.what()));
    }
}

}  // namespace

std::vector<double> shipped_position_weights() {
    return read_member<std::vector<double>>("skinflow-topk.json", "weights");
}

std::map<std::string, double> shipped_caption_weights() {
    return read_member<std::map<std::string, double>>("caption-weights.json", "weights");
}

const std::set<std::string> & caption_stopwords() {
    static std::mutex mutex;
    static std::map<std::string, std::set<std::string>> cache;
    const std::string key = data_dir().string();
    {
        const std::lock_guard lock(mutex);
        if (const auto it = cache.find(key); it != cache.end()) {
            return it->second;
        }
    }
    auto words = read_member<std::set<std::string>>("caption-matching.json", "stopwords");
    const std::lock_guard lock(mutex);
    return cache.emplace(key, std::move(words)).first->second;  // a set once there is never replaced
}

}  // namespace dermlens::rewards
