// Dataset manifests: CSV (RFC 4180 quoting, relative paths, optional and metadata columns,
// errors naming file and line) and folder-per-class trees (with or without split folders).
#include "dermlens/error.h"
#include "dataset/manifest.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

namespace {

namespace fs = std::filesystem;
using dermlens::dataset::Manifest;
using dermlens::dataset::read_manifest;
using dermlens::test::TempDir;
using dermlens::test::write_file;
using testing::ElementsAre;
using testing::HasSubstr;

const fs::path kIsic = fs::path(DERMLENS_SHARED_DIR) / "data" / "images" / "isic9class";

void expect_error(const std::function<void()> & action, const std::vector<std::string> & needles) {
    dermlens::test::expect_error(action, dermlens::ErrorKind::InvalidInput, needles);
}

TEST(ManifestCsv, ReadsColumnsAndResolvesRelativePathsAgainstItsFolder) {
    TempDir dir("manifest");
    write_file(dir / "sub" / "m.csv",
               "image,label,split,patient_id,age,site\n"
               "a.jpg,melanoma,train,p1,54,back\n"
               "img/b.png,nevus,test,p2,31,arm\n"
               "/abs/c.jpg,nevus,,,,\n");
    const Manifest manifest = read_manifest(dir / "sub" / "m.csv");
    ASSERT_EQ(manifest.size(), 3u);
    EXPECT_EQ(manifest.source, dir / "sub" / "m.csv");
    EXPECT_THAT(manifest.metadata_columns, ElementsAre("age", "site"));
    EXPECT_EQ(manifest.rows[0].image, (dir / "sub" / "a.jpg").lexically_normal());
    EXPECT_EQ(manifest.rows[0].image_field, "a.jpg");
    EXPECT_EQ(manifest.rows[0].label, "melanoma");
    EXPECT_EQ(manifest.rows[0].split, "train");
    EXPECT_EQ(manifest.rows[0].patient_id, "p1");
    EXPECT_THAT(manifest.rows[0].metadata, ElementsAre("54", "back"));
    EXPECT_EQ(manifest.rows[0].line, 2u);
    EXPECT_EQ(manifest.rows[1].image, (dir / "sub" / "img" / "b.png").lexically_normal());
    EXPECT_EQ(manifest.rows[2].image, fs::path("/abs/c.jpg"));
    EXPECT_EQ(manifest.rows[2].split, "");
    EXPECT_THAT(manifest.labels(), ElementsAre("melanoma", "nevus"));
    EXPECT_EQ(manifest.where(manifest.rows[1]), "manifest '" + (dir / "sub" / "m.csv").string() + "' line 3");
}

TEST(ManifestCsv, OptionalColumnsMayBeAbsentAndColumnsInAnyOrder) {
    TempDir dir("manifest");
    write_file(dir / "m.csv", "label,note,image\nnevus,x,a.jpg\n");
    const Manifest manifest = read_manifest(dir / "m.csv");
    ASSERT_EQ(manifest.size(), 1u);
    EXPECT_EQ(manifest.rows[0].label, "nevus");
    EXPECT_EQ(manifest.rows[0].image_field, "a.jpg");
    EXPECT_EQ(manifest.rows[0].split, "");
    EXPECT_EQ(manifest.rows[0].patient_id, "");
    EXPECT_THAT(manifest.metadata_columns, ElementsAre("note"));
}

TEST(ManifestCsv, AcceptsAPathColumnForTheImage) {
    TempDir dir("manifest");
    write_file(dir / "m.csv", "path,label,source\nx/a.jpg,bkl,ham\n");
    const Manifest manifest = read_manifest(dir / "m.csv");
    EXPECT_EQ(manifest.rows[0].image_field, "x/a.jpg");
    EXPECT_THAT(manifest.metadata_columns, ElementsAre("source"));
}

TEST(ManifestCsv, Rfc4180QuotingCrlfAndByteOrderMark) {
    TempDir dir("manifest");
    write_file(dir / "m.csv",
               "\xEF\xBB\xBFimage,label,note\r\n"
               "\"my file, 1.jpg\",\"basal cell carcinoma\",\"said \"\"hi\"\"\"\r\n"
               "b.jpg,nevus,\"two\r\nlines\"\r\n"
               "\r\n"
               "c.jpg,\"melanoma\",\r\n");
    const Manifest manifest = read_manifest(dir / "m.csv");
    ASSERT_EQ(manifest.size(), 3u);
    EXPECT_EQ(manifest.rows[0].image_field, "my file, 1.jpg");
    EXPECT_EQ(manifest.rows[0].label, "basal cell carcinoma");
    EXPECT_THAT(manifest.rows[0].metadata, ElementsAre("said \"hi\""));
    EXPECT_THAT(manifest.rows[1].metadata, ElementsAre("two\r\nlines"));
    EXPECT_EQ(manifest.rows[1].line, 3u);
    EXPECT_EQ(manifest.rows[2].line, 6u);  // the quoted line break and the blank line count
    EXPECT_EQ(manifest.rows[2].label, "melanoma");
    EXPECT_THAT(manifest.rows[2].metadata, ElementsAre(""));
}

TEST(ManifestCsv, ErrorsNameTheFileAndTheLine) {
    TempDir dir("manifest");
    const auto check = [&](const std::string & text, const std::vector<std::string> & needles) {
        const fs::path file = dir / "bad.csv";
        write_file(file, text);
        std::vector<std::string> all = needles;
        all.push_back(file.string());
        expect_error([&] { read_manifest(file); }, all);
    };
    check("image,diagnosis\na.jpg,nevus\n", {"line 1", "no 'label' column"});
    check("file,label\na.jpg,nevus\n", {"line 1", "no 'image' column"});
    check("image,label\na.jpg,nevus\nb.jpg,\n", {"line 3", "empty label"});
    check("image,label\na.jpg,nevus\n , melanoma\n", {"line 3", "empty image"});
    check("image,label\na.jpg,nevus\nb.jpg,nevus,extra\n", {"line 3", "3 fields, but the header has 2"});
    check("image,label\na.jpg,nevus\nb.jpg\n", {"line 3", "1 fields, but the header has 2"});
    check("image,label\n\"a.jpg,nevus\nb.jpg,nevus\n", {"line 2", "never closed"});
    check("image,label\na\"b.jpg,nevus\n", {"line 2", "quote inside an unquoted field"});
    check("image,label\n\"a.jpg\"x,nevus\n", {"line 2", "after a closing quote"});
    check("image,label\na.jpg,nevus\n./a.jpg,melanoma\n", {"line 3", "already listed on line 2"});
    check("image,label,image\na,b,c\n", {"line 1", "'image' appears twice"});
    check("image,,label\na,b,c\n", {"line 1", "column 2 of the header has no name"});
    check("", {"empty file"});
    check("image,label\n", {"no images listed"});
    expect_error([&] { read_manifest(dir / "absent.csv"); }, {"absent.csv", "file not found"});
}

TEST(ManifestFolder, OneFolderPerClassSortedIgnoringOtherFiles) {
    TempDir dir("tree");
    write_file(dir / "nevus" / "b.jpg", "x");
    write_file(dir / "nevus" / "a.PNG", "x");
    write_file(dir / "nevus" / ".hidden.jpg", "x");
    write_file(dir / "nevus" / "notes.txt", "x");
    write_file(dir / "melanoma" / "c.jpeg", "x");
    write_file(dir / "README.md", "x");
    const Manifest manifest = read_manifest(dir.path());
    ASSERT_EQ(manifest.size(), 3u);
    EXPECT_EQ(manifest.rows[0].image_field, "melanoma/c.jpeg");
    EXPECT_EQ(manifest.rows[0].label, "melanoma");
    EXPECT_EQ(manifest.rows[1].image_field, "nevus/a.PNG");
    EXPECT_EQ(manifest.rows[2].image_field, "nevus/b.jpg");
    EXPECT_EQ(manifest.rows[2].image, dir / "nevus" / "b.jpg");
    EXPECT_EQ(manifest.rows[2].label, "nevus");
    EXPECT_EQ(manifest.rows[2].split, "");
    EXPECT_EQ(manifest.rows[2].line, 0u);
    EXPECT_THAT(manifest.where(manifest.rows[2]), HasSubstr("image 'nevus/b.jpg'"));
}

TEST(ManifestFolder, SplitFoldersHoldingClassFolders) {
    TempDir dir("tree");
    write_file(dir / "train" / "nevus" / "a.jpg", "x");
    write_file(dir / "train" / "melanoma" / "b.jpg", "x");
    write_file(dir / "test" / "nevus" / "c.jpg", "x");
    const Manifest manifest = read_manifest(dir.path());
    ASSERT_EQ(manifest.size(), 3u);
    EXPECT_EQ(manifest.rows[0].image_field, "test/nevus/c.jpg");
    EXPECT_EQ(manifest.rows[0].split, "test");
    EXPECT_EQ(manifest.rows[0].label, "nevus");
    EXPECT_EQ(manifest.rows[1].split, "train");
    EXPECT_EQ(manifest.rows[1].label, "melanoma");
}

TEST(ManifestFolder, ErrorsNameTheFolder) {
    TempDir dir("tree");
    expect_error([&] { read_manifest(dir.path()); }, {dir.path().string(), "no class folders"});
    write_file(dir / "nevus" / "a.jpg", "x");
    fs::create_directories(dir / "melanoma");
    expect_error([&] { read_manifest(dir.path()); }, {(dir / "melanoma").string(), "class folder without images"});
    expect_error([&] { dermlens::dataset::read_manifest_folder(dir / "nevus" / "a.jpg"); }, {"not a folder"});
}

TEST(ManifestFolder, TheSharedIsicSetHasNineClassesOfSixteen) {
    if (!fs::exists(kIsic)) {
        GTEST_SKIP() << "shared data folder absent: " << kIsic;
    }
    const Manifest manifest = read_manifest(kIsic);
    EXPECT_EQ(manifest.size(), 144u);
    const auto labels = manifest.labels();
    ASSERT_EQ(labels.size(), 9u);
    std::map<std::string, int> per_label;
    for (const auto & row : manifest.rows) {
        ++per_label[row.label];
        EXPECT_TRUE(fs::exists(row.image)) << row.image;
    }
    for (const auto & label : labels) {
        EXPECT_EQ(per_label[label], 16) << label;
    }
    EXPECT_EQ(labels.front(), "actinic_keratosis");
}

}  // namespace
