// The web page in a real browser (tests/web/test_page.mjs: Debian's chromium driven by
// playwright-core, installed by scripts/setup with `npm ci`) against `dermlens serve` on a
// generated tiny model. Screenshots: <build>/tests/server/page-screenshots/.
#include "serve_fixture.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace dermlens::test {
namespace {

// The shared lesion reduced to 90 x 90 pixels: below the quality gate's 112-pixel rejection
// (data/quality/thresholds.json, "resolution"), so the page must show why it is rejected.
std::filesystem::path write_tiny_lesion(const std::filesystem::path & path) {
    const cv::Mat lesion = cv::imread(shared_lesion().string(), cv::IMREAD_COLOR);
    cv::Mat tiny;
    cv::resize(lesion, tiny, {90, 90}, 0.0, 0.0, cv::INTER_AREA);
    cv::imwrite(path.string(), tiny);
    return path;
}

TEST(ServePage, UploadShowsTheDifferentialHeatMapAndQualityAndErrorsAreShown) {
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
                     write_tiny_lesion(dir / "tiny-lesion.png").string(), not_image.string(),
                     DERMLENS_PAGE_SCREENSHOTS});
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(DERMLENS_PAGE_SCREENSHOTS) / "phone.png"));
}

}  // namespace
}  // namespace dermlens::test
