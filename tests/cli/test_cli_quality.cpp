// `dermlens quality` and `dermlens data modality` end to end through the built CLI, on shared
// real photos and copies of them spoiled on purpose.
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

namespace {

namespace fs = std::filesystem;
using dermlens::test::run_process;
using dermlens::test::TempDir;
using dermlens::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

const fs::path kImages = fs::path(DERMLENS_SHARED_DIR) / "data" / "images";
const fs::path kPhoto = kImages / "ham10000" / "nv" / "ISIC_0024311.jpg";

TEST(CliQuality, JsonHasAnObjectPerImageWithItsVerdictAndReasons) {
    TempDir dir("cli_quality");
    const cv::Mat photo = cv::imread(kPhoto.string());
    cv::Mat blurred;
    cv::GaussianBlur(photo, blurred, {}, 12.0);
    cv::imwrite((dir / "blurred.png").string(), blurred);
    write_file(dir / "broken.jpg", "\xFF\xD8\xFF not really");

    const auto result = run_process({DERMLENS_CLI, "quality", "--json", kPhoto.string(), (dir / "blurred.png").string(),
                                     (dir / "broken.jpg").string()});
    EXPECT_EQ(result.exit_code, 1) << result.err;  // one of three could not be read
    const json reports = json::parse(result.out);
    ASSERT_EQ(reports.size(), 3u);
    EXPECT_EQ(reports[0]["path"], kPhoto.string());
    EXPECT_NE(reports[0]["overall"], "reject") << reports[0].dump(2);
    EXPECT_EQ(reports[0]["width"], 600);
    EXPECT_EQ(reports[1]["overall"], "reject");
    bool blur_rejected = false;
    for (const auto & check : reports[1]["checks"]) {
        if (check["name"] == "blur") blur_rejected = check["verdict"] == "reject" && check["reason"] == "too blurred to judge the border";
    }
    EXPECT_TRUE(blur_rejected) << reports[1].dump(2);
    EXPECT_EQ(reports[2]["error"]["kind"], "invalid_input");
    EXPECT_THAT(result.err, HasSubstr("broken.jpg"));

    const auto text = run_process({DERMLENS_CLI, "quality", (dir / "blurred.png").string()});
    EXPECT_EQ(text.exit_code, 0);
    EXPECT_THAT(text.out, HasSubstr("reject — too blurred to judge the border"));

    const auto bad = run_process({DERMLENS_CLI, "quality", "--thresholds", (dir / "none.json").string(), kPhoto.string()});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_THAT(bad.err, HasSubstr("none.json"));
}

TEST(CliDataModality, BuildsALibraryAndClassifiesWithAMarginReport) {
    TempDir dir("cli_modality");
    const fs::path library = dir / "modality.json";
    const auto built = run_process({DERMLENS_CLI, "data", "modality", "build", "--class",
                                    "dermoscopic=" + (kImages / "isic9class" / "melanoma").string(), "--class",
                                    "pathology=" + (kImages / "pathology" / "nct-crc-he-100k").string(), "--out",
                                    library.string()});
    ASSERT_EQ(built.exit_code, 0) << built.err;
    EXPECT_THAT(built.err, HasSubstr("2 classes"));
    const fs::path query = kImages / "isic9class" / "nevus";
    const auto classified = run_process({DERMLENS_CLI, "data", "modality", "classify", "--library", library.string(),
                                         "--json", "--margin", "0.99", query.string()});
    ASSERT_EQ(classified.exit_code, 0) << classified.err;
    const json out = json::parse(classified.out);
    ASSERT_EQ(out["images"].size(), 16u);
    int dermoscopic = 0;
    for (const auto & image : out["images"]) {
        dermoscopic += image["modality"] == "dermoscopic";
        EXPECT_EQ(image["neighbours"].size(), 1u);
        EXPECT_GE(image["margin"].get<double>(), 0.0);
    }
    EXPECT_GE(dermoscopic, 14) << out.dump(2);  // nevi look like the melanomas, not like colon tissue
    EXPECT_EQ(out["uncertain"].size(), 16u);  // a margin of 0.99 lists everything for the manual check
    const auto bad = run_process({DERMLENS_CLI, "data", "modality", "build", "--class", "nofolder", "--out",
                                  library.string()});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_THAT(bad.err, HasSubstr("--class 'nofolder': must be NAME=FOLDER"));
}

}  // namespace
