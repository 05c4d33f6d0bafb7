// The usage example atop dermlens/engine.h compiles (the build extracted it from the header)
// and does what it says on a generated tiny model and a shared image: a JSON report on stdout.
#include "engine/engine_fixture.h"
#include "support/run_process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace {

TEST(UsageExample, IsAtTheTopOfTheHeaderAndAtMost25Lines) {
    std::ifstream header(DERMLENS_ENGINE_HEADER);
    std::stringstream text;
    text << header.rdbuf();
    const std::string content = text.str();
    const auto start = content.find("// Example");
    ASSERT_NE(start, std::string::npos);
    EXPECT_LT(content.find('\n', start), content.find("#pragma once"));
    int lines = 0;
    for (auto at = content.find("\n//     ", start); at != std::string::npos && at < content.find("#pragma once");
         at = content.find("\n//     ", at + 1)) {
        ++lines;
    }
    EXPECT_GT(lines, 10);
    EXPECT_LE(lines, 25);
}

TEST(UsageExample, DiagnosesASharedImage) {
    const auto & files = dermlens::test::TinyModel::shared().files;
    const auto run = dermlens::test::run_process(
        {DERMLENS_USAGE_EXAMPLE, files.model.string(), files.mmproj.string(), dermlens::test::shared_lesion().string()});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const auto report = nlohmann::json::parse(run.out);
    EXPECT_EQ(report.at("candidates").size(), 9u);
    EXPECT_EQ(report.at("strategy"), "describe-then-decide");
    EXPECT_FALSE(report.at("final_diagnosis").is_null());
}

}  // namespace
