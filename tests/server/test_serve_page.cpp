// The web page in a real browser (tests/web/test_page.mjs: Debian's chromium driven by
// playwright-core, installed by scripts/setup with `npm ci`) against `dermlens serve` on a
// generated tiny model. Screenshots: <build>/tests/server/page-screenshots/.
#include "serve_fixture.h"

#include <gtest/gtest.h>

namespace dermlens::test {
namespace {

TEST(ServePage, UploadShowsTheDifferentialAndHeatMapAndErrorsAreShown) {
    const std::filesystem::path web_tests = std::filesystem::path(DERMLENS_SOURCE_DIR) / "tests" / "web";
    if (!std::filesystem::exists(web_tests / "node_modules" / "playwright-core") ||
        !std::filesystem::exists("/usr/bin/chromium")) {
        GTEST_SKIP() << "playwright-core (scripts/setup runs npm ci in tests/web) or /usr/bin/chromium is missing";
    }
    TempDir dir("serve-page");
    const auto not_image = dir / "notes.txt";
    std::ofstream(not_image) << "these are notes, not a photo\n";
    ServeProcess server({"--attention"});
    const ProcessResult result =
        run_process({"/usr/bin/node", (web_tests / "test_page.mjs").string(),
                     "http://127.0.0.1:" + std::to_string(server.port()) + "/", shared_lesion().string(),
                     not_image.string(), DERMLENS_PAGE_SCREENSHOTS});
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(DERMLENS_PAGE_SCREENSHOTS) / "phone.png"));
}

}  // namespace
}  // namespace dermlens::test
