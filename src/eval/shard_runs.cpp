#include "eval/shard_runs.h"

#include "common/file_lock.h"
#include "dermlens/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <regex>

namespace dermlens::eval {
namespace {

namespace fs = std::filesystem;

struct Found {
    std::size_t position = 0;  // 1-based
    std::size_t count = 0;
    fs::path folder;
};

// Every folder under `root` named shard-i-of-n (none when `root` does not exist).
std::vector<Found> shard_folders_if_any(const fs::path & root) {
    static const std::regex name("shard-([0-9]{1,9})-of-([0-9]{1,9})");
    std::vector<Found> found;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        return found;
    }
    for (const auto & entry : fs::directory_iterator(root)) {
        std::smatch match;
        const std::string file_name = entry.path().filename().string();
        if (entry.is_directory() && std::regex_match(file_name, match, name)) {
            found.push_back({std::stoul(match[1]), std::stoul(match[2]), entry.path()});
        }
    }
    return found;
}

std::vector<Found> shard_folders(const fs::path & root) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        throw Error(ErrorKind::InvalidInput, fmt::format("run root '{}' is not a folder", root.string()));
    }
    std::vector<Found> found = shard_folders_if_any(root);
    if (found.empty()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("run root '{}' holds no shard folders (shard-i-of-n)", root.string()));
    }
    return found;
}

// Each of 1..n exactly once, all of one n.
std::vector<Found> whole_set(std::vector<Found> found, const fs::path & root) {
    std::map<std::size_t, std::vector<std::string>> by_count;
    for (const Found & shard : found) {
        by_count[shard.count].push_back(shard.folder.filename().string());
    }
    if (by_count.size() > 1) {
        std::vector<std::string> splits;
        for (const auto & [count, names] : by_count) {
            splits.push_back(fmt::format("{} of {} ({})", names.size(), count, fmt::join(names, ", ")));
        }
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("run root '{}' holds shards of different splits: {}; merge one split at a time",
                                root.string(), fmt::join(splits, "; ")));
    }
    const std::size_t count = by_count.begin()->first;
    std::map<std::size_t, Found> by_position;
    for (Found & shard : found) {
        if (shard.position < 1 || shard.position > count) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("run root '{}': {} is no shard of {} (shards are 1 to {})", root.string(),
                                    shard.folder.filename().string(), count, count));
        }
        by_position.emplace(shard.position, std::move(shard));
    }
    std::vector<std::string> missing;
    for (std::size_t position = 1; position <= count; ++position) {
        if (!by_position.contains(position)) {
            missing.push_back(shard_folder_name({position - 1, count}));
        }
    }
    if (!missing.empty()) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("run root '{}': the set of {} shards is incomplete: {} missing",
                                                            root.string(), count, fmt::join(missing, ", ")));
    }
    std::vector<Found> ordered;
    for (auto & [position, shard] : by_position) {
        ordered.push_back(std::move(shard));
    }
    return ordered;
}

bool being_written(const fs::path & store) {
    const fs::path lock = RunStore::lock_file(store);
    return fs::exists(lock) && !FileLock::try_acquire(lock);
}

}  // namespace

std::string shard_folder_name(const Shard & shard) {
    return fmt::format("shard-{}-of-{}", shard.index + 1, shard.count);
}

void refuse_other_split(const fs::path & root, const Shard & shard, const std::string & source) {
    std::vector<std::string> others;
    std::size_t other_count = 0;
    for (const Found & found : shard_folders_if_any(root)) {
        if (found.count != shard.count) {
            others.push_back(found.folder.filename().string());
            other_count = found.count;
        }
    }
    if (!others.empty()) {
        std::sort(others.begin(), others.end());
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("run root '{}' holds shards of a {}-way split ({}), but this process is shard {} of {} "
                                "({}); every process of one run needs the same count (a Slurm array task "
                                "resubmitted alone sees an array of one: requeue it in its array with scontrol "
                                "requeue JOB_TASK, or resubmit the whole array, whose finished shards end at once)",
                                root.string(), other_count, fmt::join(others, ", "), shard.index + 1, shard.count,
                                source));
    }
}

std::vector<fs::path> complete_shard_stores(const fs::path & root) {
    const std::vector<Found> shards = whole_set(shard_folders(root), root);
    std::vector<fs::path> stores;
    std::optional<std::pair<std::string, std::size_t>> first_limit;  // folder, limit
    for (const Found & shard : shards) {
        const std::string name = shard.folder.filename().string();
        const fs::path file = shard.folder / "run.sqlite";
        if (!fs::exists(file)) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("run root '{}': {} holds no run (run.sqlite); run that shard", root.string(), name));
        }
        if (being_written(file)) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("run root '{}': {} is still being written by another process; merge when it has "
                                    "ended",
                                    root.string(), name));
        }
        const RunStore store = RunStore::open(file);
        const std::optional<ShardPlan> plan = store.plan();
        const Shard expected{shard.position - 1, shard.count};
        if (!plan || plan->shard.index != expected.index || plan->shard.count != expected.count) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("run root '{}': {} holds {}, not that shard", root.string(), name,
                                    plan ? fmt::format("the run of {}", shard_folder_name(plan->shard))
                                         : std::string("a run that records no shard")));
        }
        if (!first_limit) {
            first_limit.emplace(name, plan->limit);
        } else if (first_limit->second != plan->limit) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("run root '{}': the shards evaluated different images: {} the first {} test "
                                    "images, {} the first {} (0: all)",
                                    root.string(), first_limit->first, first_limit->second, name, plan->limit));
        }
        const std::size_t stored = store.size();
        if (stored < plan->items) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("run root '{}': {} is unfinished: {} of its {} samples stored; resume that shard "
                                    "first",
                                    root.string(), name, stored, plan->items));
        }
        stores.push_back(file);
    }
    return stores;
}

}  // namespace dermlens::eval
