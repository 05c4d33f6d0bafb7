// dermlens as an installed package: `cmake --install` into a fresh prefix gives the public
// headers (and nothing of src/), libdermlens.so with find_package(dermlens), the CLI and the
// data folder; examples/minimal builds against that prefix alone and gives the candidates of
// `dermlens diagnose --json` for the same image and labels, reading the prefix's data folder.
#include "engine/engine_fixture.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

namespace {

namespace fs = std::filesystem;
using dermlens::test::ProcessResult;
using dermlens::test::run_process;

constexpr const char * kLabels = "melanoma,melanocytic nevus,seborrheic keratosis,basal cell carcinoma";

TEST(Install, ExampleBuildsAgainstThePrefixAndMatchesTheCli) {
    if (DERMLENS_SANITIZED) {
        GTEST_SKIP() << "the sanitizer build's library needs the sanitizer runtime; the normal build runs this test";
    }
    const dermlens::test::TempDir dir("install");
    const fs::path prefix = dir / "prefix";
    const ProcessResult install = run_process({DERMLENS_CMAKE, "--install", DERMLENS_BUILD_DIR, "--prefix", prefix.string()});
    ASSERT_EQ(install.exit_code, 0) << install.err;

    EXPECT_TRUE(fs::exists(prefix / "include" / "dermlens" / "engine.h"));
    EXPECT_TRUE(fs::exists(prefix / "lib" / "cmake" / "dermlens" / "dermlensConfig.cmake"));
    EXPECT_TRUE(fs::exists(prefix / "share" / "dermlens" / "kb"));
    EXPECT_TRUE(fs::exists(prefix / "bin" / "dermlens"));
    for (const auto & entry : fs::recursive_directory_iterator(prefix / "include")) {
        EXPECT_TRUE(entry.path().string().find("/include/dermlens") != std::string::npos) << entry.path();
    }

    const fs::path build = dir / "build-minimal";
    const ProcessResult configure =
        run_process({DERMLENS_CMAKE, "-S", std::string(DERMLENS_SOURCE_DIR) + "/examples/minimal", "-B", build.string(),
                     "-DCMAKE_PREFIX_PATH=" + prefix.string(), "-DCMAKE_BUILD_TYPE=Release"});
    ASSERT_EQ(configure.exit_code, 0) << configure.out << configure.err;
    const ProcessResult compile = run_process({DERMLENS_CMAKE, "--build", build.string()});
    ASSERT_EQ(compile.exit_code, 0) << compile.out << compile.err;

    const auto & files = dermlens::test::TinyModel::shared().files;
    const std::string image = dermlens::test::shared_lesion().string();
    const ProcessResult minimal =
        run_process({(build / "minimal").string(), files.model.string(), files.mmproj.string(), image, kLabels});
    ASSERT_EQ(minimal.exit_code, 0) << minimal.err;
    const auto ours = nlohmann::json::parse(minimal.out);
    EXPECT_EQ(fs::canonical(ours.at("data_dir").get<std::string>()), fs::canonical(prefix / "share" / "dermlens"));

    const ProcessResult cli =
        run_process({(prefix / "bin" / "dermlens").string(), "diagnose", "--model", files.model.string(), "--mmproj",
                     files.mmproj.string(), "--threads", "1", "--labels", kLabels, "--json", image});
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    const auto report = nlohmann::json::parse(cli.out).at(0);
    const auto & differential = ours.at("differential");
    ASSERT_EQ(differential.size(), report.at("differential").size());
    for (std::size_t i = 0; i < differential.size(); ++i) {
        EXPECT_EQ(differential[i].at("label"), report.at("differential")[i].at("label"));
        EXPECT_DOUBLE_EQ(differential[i].at("fused").get<double>(),
                         report.at("differential")[i].at("probability").get<double>());
    }
}

}  // namespace
