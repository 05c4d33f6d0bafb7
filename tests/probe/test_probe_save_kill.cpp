// Issue 14: `tune` never leaves a half-written probe. A child process saves a large probe over
// an existing one and is killed (SIGKILL: no handler, no cleanup) at delays scaled to this
// machine's save time, so they land in the serialisation, the write, the fsync and the rename on
// a slow machine and a fast one alike. Whenever it dies,
// the destination holds exactly the old or exactly the new complete probe, and both load.
#include "probe/probe.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;
using namespace dermlens::probe;
using dermlens::test::TempDir;

// `classes` x `dimension` weights, each a distinct double (written with round-trip precision).
Probe probe_of(std::size_t classes, std::size_t dimension) {
    Probe probe;
    for (std::size_t c = 0; c < classes; ++c) {
        probe.classes.push_back("class_" + std::to_string(c));
    }
    probe.encoder = {"ab12", dermlens::vision::FeatureKind::ProjectedMean, "clip-336"};
    probe.dimension = dimension;
    probe.weights = Eigen::MatrixXd::Random(static_cast<Eigen::Index>(classes), static_cast<Eigen::Index>(dimension));
    probe.bias = Eigen::VectorXd::Random(static_cast<Eigen::Index>(classes));
    probe.training.rows_per_class.assign(classes, 1);
    return probe;
}

std::string read_bytes(const fs::path & path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(ProbeSave, AKilledSaveLeavesTheOldOrTheNewProbeWhole) {
    TempDir dir("probe_kill");
    const fs::path path = dir / "skin.probe";
    const Probe old_probe = probe_of(3, 4);
    const Probe new_probe = probe_of(1000, 800);  // ~18 MB of JSON
    save_probe(new_probe, dir / "reference.probe");
    const std::string new_bytes = read_bytes(dir / "reference.probe");
    ASSERT_EQ(load_probe(dir / "reference.probe").weights, new_probe.weights);
    fs::remove(dir / "reference.probe");
    save_probe(old_probe, path);
    const std::string old_bytes = read_bytes(path);
    ASSERT_EQ(load_probe(path).weights, old_probe.weights);

    const auto start = std::chrono::steady_clock::now();
    save_probe(new_probe, dir / "timed.probe");
    const auto save_time = std::chrono::steady_clock::now() - start;
    fs::remove(dir / "timed.probe");

    int old_seen = 0;
    int new_seen = 0;
    for (const double share_of_save : {0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.2, 1.6, 2.4, 4.0}) {
        const auto delay = std::chrono::duration_cast<std::chrono::microseconds>(save_time * share_of_save);
        save_probe(old_probe, path);
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            save_probe(new_probe, path);
            ::_exit(0);
        }
        std::this_thread::sleep_for(delay);
        ::kill(child, SIGKILL);
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        const std::string bytes = read_bytes(path);
        ASSERT_TRUE(bytes == old_bytes || bytes == new_bytes)
            << "killed after " << delay.count() << " us: " << bytes.size() << " bytes at the destination";
        (bytes == old_bytes ? old_seen : new_seen) += 1;
        for (const auto & entry : fs::directory_iterator(dir.path())) {
            if (entry.path() != path) {  // a killed save may leave its temporary, never at the destination
                EXPECT_EQ(entry.path().extension(), ".tmp") << entry.path();
                EXPECT_EQ(entry.path().filename().string().rfind(".skin.probe.", 0), 0u) << entry.path();
                fs::remove(entry.path());
            }
        }
    }
    EXPECT_GT(old_seen, 0) << "no kill landed before the rename: the test did not test";
    EXPECT_EQ(load_probe(path).classes.size(), read_bytes(path) == new_bytes ? 1000u : 3u);
    ::testing::Test::RecordProperty("kills_old_new", std::to_string(old_seen) + "/" + std::to_string(new_seen));
}

}  // namespace
