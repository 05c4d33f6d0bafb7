#include "eval/launcher_shard.h"

#include "dermlens/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cstdlib>
#include <vector>

namespace dermlens::eval {
namespace {

constexpr const char * kSlurm = "Slurm job array";
constexpr const char * kKubernetes = "Kubernetes Indexed Job";
constexpr const char * kCountVariable = "DERMLENS_SHARDS";

struct Variable {
    std::string name;
    std::string value;
};

std::string listing(const std::vector<Variable> & variables) {
    std::vector<std::string> parts;
    for (const auto & [name, value] : variables) {
        parts.push_back(fmt::format("{}={}", name, value));
    }
    return fmt::format("{}", fmt::join(parts, " "));
}

// The values of `names` when every one is set; nullopt when none is; refused when only some are.
std::optional<std::vector<Variable>> all_or_none(const Environment & environment, const std::string & launcher,
                                                 const std::vector<std::string> & names) {
    std::vector<Variable> set;
    std::vector<std::string> missing;
    for (const auto & name : names) {
        if (const auto value = environment(name)) {
            set.push_back({name, *value});
        } else {
            missing.push_back(name);
        }
    }
    if (set.empty()) {
        return std::nullopt;
    }
    if (!missing.empty()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: {} is set but {} is not; a shard needs all of {} (set by the launcher)", launcher,
                                listing(set), fmt::join(missing, ", "), fmt::join(names, ", ")));
    }
    return set;
}

std::size_t whole_number(const Variable & variable, const std::string & launcher) {
    std::size_t value = 0;
    const char * begin = variable.value.data();
    const char * end = begin + variable.value.size();
    const auto [stop, ec] = std::from_chars(begin, end, value);
    if (begin == end || ec != std::errc() || stop != end) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: {}='{}' is not a whole number", launcher, variable.name, variable.value));
    }
    return value;
}

LauncherShard checked(std::size_t index, std::size_t count, std::string launcher, const std::vector<Variable> & read) {
    if (count == 0) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("{}: {} gives 0 shards", launcher, listing(read)));
    }
    if (index >= count) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: {} puts this task at index {}, not below the shard count {}", launcher,
                                listing(read), index, count));
    }
    return {Shard{index, count}, std::move(launcher), listing(read)};
}

// SLURM_ARRAY_TASK_ID runs MIN, MIN + STEP, ... (STEP 1 unless set): `sbatch --array=1-8` is 1-based.
std::optional<LauncherShard> slurm_array(const Environment & environment) {
    const auto read = all_or_none(environment, kSlurm,
                                  {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT"});
    if (!read) {
        return std::nullopt;
    }
    std::vector<Variable> variables = *read;
    const std::size_t id = whole_number(variables[0], kSlurm);
    const std::size_t min = whole_number(variables[1], kSlurm);
    const std::size_t count = whole_number(variables[2], kSlurm);
    std::size_t step = 1;
    if (const auto text = environment("SLURM_ARRAY_TASK_STEP")) {
        variables.push_back({"SLURM_ARRAY_TASK_STEP", *text});
        step = whole_number(variables.back(), kSlurm);
    }
    if (id < min || step == 0 || (id - min) % step != 0) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: {} is not one of MIN, MIN + STEP, ...: submit the array as one range "
                                "(sbatch --array=0-N or 0-N:S)",
                                kSlurm, listing(variables)));
    }
    return checked((id - min) / step, count, kSlurm, variables);
}

std::optional<LauncherShard> rank_of_size(const Environment & environment, const std::string & launcher,
                                          const std::string & rank, const std::string & size) {
    const auto read = all_or_none(environment, launcher, {rank, size});
    if (!read) {
        return std::nullopt;
    }
    return checked(whole_number((*read)[0], launcher), whole_number((*read)[1], launcher), launcher, *read);
}

// A Kubernetes Job tells its pods their index but not the Job's completions: the count is given.
std::optional<LauncherShard> kubernetes(const Environment & environment, std::optional<std::size_t> count) {
    const auto index_text = environment("JOB_COMPLETION_INDEX");
    if (!index_text) {
        return std::nullopt;
    }
    std::vector<Variable> read{{"JOB_COMPLETION_INDEX", *index_text}};
    const std::size_t index = whole_number(read.front(), kKubernetes);
    if (count) {
        return checked(index, *count, kKubernetes, read);
    }
    const auto count_text = environment(kCountVariable);
    if (!count_text) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: {} is set but the shard count is not; give the Job's completions as the shard "
                                "count, or set {}",
                                kKubernetes, listing(read), kCountVariable));
    }
    read.push_back({kCountVariable, *count_text});
    return checked(index, whole_number(read.back(), kKubernetes), kKubernetes, read);
}

}  // namespace

Environment process_environment() {
    return [](const std::string & name) -> std::optional<std::string> {
        const char * value = std::getenv(name.c_str());
        return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
    };
}

LauncherShard detect_launcher_shard(const Environment & environment, std::optional<std::size_t> count) {
    std::optional<LauncherShard> found = slurm_array(environment);
    if (!found) found = rank_of_size(environment, "Open MPI", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE");
    if (!found) found = rank_of_size(environment, "MPICH/PMI", "PMI_RANK", "PMI_SIZE");
    if (!found) found = kubernetes(environment, count);
    if (!found) found = rank_of_size(environment, "torchrun", "RANK", "WORLD_SIZE");
    if (!found) {
        throw Error(ErrorKind::InvalidArgument,
                    "automatic shard: no launcher's variables are set (looked for SLURM_ARRAY_TASK_ID, "
                    "OMPI_COMM_WORLD_RANK, PMI_RANK, JOB_COMPLETION_INDEX, RANK); run under a launcher or give the "
                    "shard as i/n");
    }
    if (count && *count != found->shard.count) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: {} gives {} shards but the shard count given is {}", found->launcher, found->source,
                                found->shard.count, *count));
    }
    return *found;
}

}  // namespace dermlens::eval
