// The findings of the fuzzing campaigns (docs/fuzzing.md), each fixed and kept as a test
// named after what it was; the inputs themselves are replayed from tests/fuzz/regressions/.
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include "dermlens/kb/knowledge_base.h"
#include "eval/run_store.h"
#include "probe/probe.h"

#include <sqlite3.h>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;
using dermlens::ErrorKind;
using dermlens::test::expect_error;
using dermlens::test::TempDir;
using dermlens::test::write_file;

// A number beyond double's range made nlohmann::json throw out_of_range.406, which no reader
// caught: `dermlens` ended in exit 70, "internal error: [json.exception.out_of_range.406]
// number overflow", instead of refusing the file (the finding of issue 20's new-user trial).
TEST(FuzzFindings, ProbeFileNumberOverflowIsAnInvalidInputErrorNamingTheFile) {
    TempDir dir("fuzz_findings");
    const fs::path probe = dir / "probe.json";
    write_file(probe, R"({"format": "dermlens.probe/1", "dimension": 1e400})");
    expect_error([&] { (void)dermlens::probe::load_probe(probe); }, ErrorKind::InvalidInput,
                 {"probe file '" + probe.string() + "'", "malformed JSON", "number overflow"});
}

TEST(FuzzFindings, KnowledgeBaseFileNumberOverflowIsAnInvalidInputErrorNamingTheFile) {
    TempDir dir("fuzz_findings");
    const fs::path file = dir / "kb" / "ddx.json";
    write_file(file, R"({"schema": "dermlens.kb.ddx/1", "edges": [1e400]})");
    expect_error([&] { (void)dermlens::kb::KnowledgeBase::load({dir / "kb"}); }, ErrorKind::InvalidInput,
                 {"kb file '" + file.string() + "'", "malformed JSON", "number overflow"});
}

TEST(FuzzFindings, RunStoreSettingsNumberOverflowIsAnInvalidInputErrorNamingTheFile) {
    TempDir dir("fuzz_findings");
    const fs::path file = dir / "run" / "results.sqlite";
    { (void)dermlens::eval::RunStore::create(file, {{"seed", 0}}); }
    sqlite3 * db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '{\"seed\": 1e400}' WHERE name = 'settings'", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    expect_error([&] { (void)dermlens::eval::RunStore::open(file); }, ErrorKind::InvalidInput,
                 {"run store '" + file.string() + "'", "not valid JSON", "number overflow"});
}

}  // namespace
