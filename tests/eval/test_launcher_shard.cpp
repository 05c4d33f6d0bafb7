// `--shard auto` without a launcher: each launcher's variables as Slurm, Open MPI, MPICH,
// Kubernetes and torchrun set them (injected environments), the order between launchers, and
// the refusals: a partly set launcher (naming the variables), values that are no numbers or out
// of range, a count that contradicts the launcher's, and no launcher at all. The real launchers
// run in tests/cli/test_cli_eval_cluster.cpp and scripts/slurm-selftest.
#include "eval/launcher_shard.h"
#include "support/expect_error.h"

#include <gtest/gtest.h>

#include <map>

namespace {

using dermlens::ErrorKind;
using dermlens::eval::detect_launcher_shard;
using dermlens::eval::Environment;
using dermlens::eval::LauncherShard;
using dermlens::test::expect_error;

Environment environment(std::map<std::string, std::string> variables) {
    return [variables = std::move(variables)](const std::string & name) -> std::optional<std::string> {
        const auto found = variables.find(name);
        return found != variables.end() ? std::optional<std::string>(found->second) : std::nullopt;
    };
}

void expect_shard(const LauncherShard & detected, std::size_t index, std::size_t count, const std::string & launcher) {
    EXPECT_EQ(detected.shard.index, index) << detected.source;
    EXPECT_EQ(detected.shard.count, count) << detected.source;
    EXPECT_EQ(detected.launcher, launcher);
}

TEST(LauncherShard, SlurmArraysCountFromTheirFirstIdInSteps) {
    // sbatch --array=0-3: task 2 of 4; --array=1-8 (1-based): task 8 is the last; --array=10-40:10.
    const auto zero_based = detect_launcher_shard(environment(
        {{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
         {"SLURM_ARRAY_TASK_MAX", "3"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}));
    expect_shard(zero_based, 2, 4, "Slurm job array");
    EXPECT_EQ(zero_based.source, "SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=4");
    expect_shard(detect_launcher_shard(environment(
                     {{"SLURM_ARRAY_TASK_ID", "8"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_COUNT", "8"}})),
                 7, 8, "Slurm job array");
    expect_shard(detect_launcher_shard(environment({{"SLURM_ARRAY_TASK_ID", "30"}, {"SLURM_ARRAY_TASK_MIN", "10"},
                                                    {"SLURM_ARRAY_TASK_COUNT", "4"}, {"SLURM_ARRAY_TASK_STEP", "10"}})),
                 2, 4, "Slurm job array");
}

TEST(LauncherShard, MpiKubernetesAndTorchrunGiveTheirRankOfTheirSize) {
    expect_shard(detect_launcher_shard(environment({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "3"},
                                                    {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"PMIX_RANK", "1"}})),
                 1, 3, "Open MPI");
    expect_shard(detect_launcher_shard(environment({{"PMI_RANK", "0"}, {"PMI_SIZE", "2"}})), 0, 2, "MPICH/PMI");
    expect_shard(detect_launcher_shard(environment({{"JOB_COMPLETION_INDEX", "4"}}), 5), 4, 5,
                 "Kubernetes Indexed Job");
    const auto counted = detect_launcher_shard(environment({{"JOB_COMPLETION_INDEX", "0"}, {"DERMLENS_SHARDS", "6"}}));
    expect_shard(counted, 0, 6, "Kubernetes Indexed Job");
    EXPECT_EQ(counted.source, "JOB_COMPLETION_INDEX=0 DERMLENS_SHARDS=6");
    expect_shard(detect_launcher_shard(environment({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}})), 3, 4,
                 "torchrun");
    // A single process is a whole run of one shard.
    expect_shard(detect_launcher_shard(environment({{"RANK", "0"}, {"WORLD_SIZE", "1"}})), 0, 1, "torchrun");
}

TEST(LauncherShard, TheFirstLauncherInOrderWins) {
    // mpirun inside a Slurm array task: the array splits the work, not the ranks of each task.
    expect_shard(detect_launcher_shard(environment({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_MIN", "0"},
                                                    {"SLURM_ARRAY_TASK_COUNT", "2"}, {"OMPI_COMM_WORLD_RANK", "0"},
                                                    {"OMPI_COMM_WORLD_SIZE", "1"}})),
                 1, 2, "Slurm job array");
    // Open MPI also sets PMI-style variables in some setups; its own are authoritative.
    expect_shard(detect_launcher_shard(environment({{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "3"},
                                                    {"PMI_RANK", "0"}, {"PMI_SIZE", "1"}, {"RANK", "0"},
                                                    {"WORLD_SIZE", "1"}})),
                 2, 3, "Open MPI");
}

TEST(LauncherShard, APartlySetLauncherIsRefusedNamingTheVariablesSetAndMissing) {
    expect_error([] { detect_launcher_shard(environment({{"SLURM_ARRAY_TASK_ID", "3"}})); },
                 ErrorKind::InvalidArgument,
                 {"Slurm job array", "SLURM_ARRAY_TASK_ID=3 is set", "SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT is not"});
    expect_error([] { detect_launcher_shard(environment({{"OMPI_COMM_WORLD_SIZE", "3"}})); },
                 ErrorKind::InvalidArgument, {"Open MPI", "OMPI_COMM_WORLD_SIZE=3 is set", "OMPI_COMM_WORLD_RANK is not"});
    expect_error([] { detect_launcher_shard(environment({{"PMI_RANK", "1"}})); }, ErrorKind::InvalidArgument,
                 {"MPICH/PMI", "PMI_RANK=1", "PMI_SIZE is not"});
    expect_error([] { detect_launcher_shard(environment({{"JOB_COMPLETION_INDEX", "1"}})); },
                 ErrorKind::InvalidArgument, {"Kubernetes Indexed Job", "JOB_COMPLETION_INDEX=1", "shard count", "DERMLENS_SHARDS"});
    expect_error([] { detect_launcher_shard(environment({{"WORLD_SIZE", "4"}})); }, ErrorKind::InvalidArgument,
                 {"torchrun", "WORLD_SIZE=4 is set", "RANK is not"});
    // A half-set launcher is refused even when a later one is whole: it is not skipped.
    expect_error([] { detect_launcher_shard(environment({{"PMI_SIZE", "2"}, {"RANK", "0"}, {"WORLD_SIZE", "2"}})); },
                 ErrorKind::InvalidArgument, {"PMI_RANK is not"});
}

TEST(LauncherShard, ValuesOutOfRangeAndContradictingCountsAreRefused) {
    const auto refused = [](std::map<std::string, std::string> variables, std::optional<std::size_t> count,
                            std::vector<std::string> needles) {
        expect_error([&] { detect_launcher_shard(environment(variables), count); }, ErrorKind::InvalidArgument, needles);
    };
    refused({{"OMPI_COMM_WORLD_RANK", "one"}, {"OMPI_COMM_WORLD_SIZE", "3"}}, std::nullopt,
            {"OMPI_COMM_WORLD_RANK='one' is not a whole number"});
    refused({{"RANK", "-1"}, {"WORLD_SIZE", "2"}}, std::nullopt, {"RANK='-1'"});
    refused({{"RANK", " 1"}, {"WORLD_SIZE", "2"}}, std::nullopt, {"RANK=' 1'"});
    refused({{"RANK", "2"}, {"WORLD_SIZE", "2"}}, std::nullopt, {"torchrun", "index 2", "count 2"});
    refused({{"PMI_RANK", "0"}, {"PMI_SIZE", "0"}}, std::nullopt, {"0 shards"});
    refused({{"JOB_COMPLETION_INDEX", "5"}}, 5, {"JOB_COMPLETION_INDEX=5", "index 5", "count 5"});
    refused({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_COUNT", "2"},
             {"SLURM_ARRAY_TASK_STEP", "2"}},
            std::nullopt, {"SLURM_ARRAY_TASK_STEP=2", "one range"});
    refused({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_COUNT", "2"}},
            std::nullopt, {"not one of MIN"});
    refused({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "3"}}, 4,
            {"Open MPI", "gives 3 shards", "shard count given is 4"});
    refused({}, std::nullopt, {"no launcher", "SLURM_ARRAY_TASK_ID", "OMPI_COMM_WORLD_RANK", "PMI_RANK",
                               "JOB_COMPLETION_INDEX", "RANK"});
    refused({}, 3, {"no launcher"});
}

TEST(LauncherShard, TheProcessEnvironmentIsRead) {
    ::setenv("DERMLENS_TEST_LAUNCHER_VARIABLE", "7", 1);
    EXPECT_EQ(dermlens::eval::process_environment()("DERMLENS_TEST_LAUNCHER_VARIABLE"), "7");
    ::unsetenv("DERMLENS_TEST_LAUNCHER_VARIABLE");
    EXPECT_FALSE(dermlens::eval::process_environment()("DERMLENS_TEST_LAUNCHER_VARIABLE").has_value());
}

}  // namespace
