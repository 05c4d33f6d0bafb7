// `dermlens dataset import` end to end through the built CLI, on the dataset fixtures of
// tests/dataset/fixtures/datasets/ and the shipped knowledge base.
#include "dataset/manifest.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>

namespace {

namespace fs = std::filesystem;
using dermlens::test::ProcessResult;
using dermlens::test::run_process;
using dermlens::test::TempDir;
using dermlens::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

const fs::path kFixtures = fs::path(DERMLENS_SOURCE_DIR) / "tests" / "dataset" / "fixtures" / "datasets";

ProcessResult import(std::vector<std::string> args) {
    args.insert(args.begin(), {DERMLENS_CLI, "dataset", "import"});
    return run_process(args, {{"DERMLENS_DATA_DIR", (fs::path(DERMLENS_SOURCE_DIR) / "data").string()}});
}

TEST(CliDatasetImport, WritesAManifestThatReadsBack) {
    TempDir dir("cli_dataset");
    const fs::path out = dir / "pad.csv";
    const auto result = import({"--format", "pad-ufes-20", "--source", (kFixtures / "pad-ufes-20").string(), "--out",
                                out.string(), "--seed", "3", "--split", "8:2"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr("rows: 10 read, 10 imported, 0 skipped"));
    EXPECT_THAT(result.out, HasSubstr("grouped by patient_id"));
    EXPECT_THAT(result.err, HasSubstr("warning: 10 images are not under"));

    const dermlens::dataset::Manifest manifest = dermlens::dataset::read_manifest(out);
    ASSERT_EQ(manifest.size(), 10u);
    EXPECT_EQ(manifest.labels(), (std::vector<std::string>{"ACK", "BCC", "MEL", "NEV", "SCC", "SEK"}));
    std::map<std::string, std::set<std::string>> splits_of_patient;
    for (const auto & row : manifest.rows) {
        EXPECT_TRUE(row.split == "train" || row.split == "test") << row.split;
        splits_of_patient[row.patient_id].insert(row.split);
    }
    EXPECT_EQ(splits_of_patient.size(), 7u);
    for (const auto & [patient, splits] : splits_of_patient) {
        EXPECT_EQ(splits.size(), 1u) << patient;
    }
    EXPECT_EQ(manifest.rows[1].image, fs::absolute(kFixtures / "pad-ufes-20" / "PAT_46_881_939.png"));

    const auto again = import({"--format", "pad-ufes-20", "--source", (kFixtures / "pad-ufes-20").string(), "--out",
                               (dir / "again.csv").string(), "--seed", "3", "--split", "8:2"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    const auto reread = dermlens::dataset::read_manifest(dir / "again.csv");
    for (std::size_t i = 0; i < manifest.size(); ++i) {
        EXPECT_EQ(reread.rows[i].split, manifest.rows[i].split) << "same seed, same split";
    }
}

TEST(CliDatasetImport, JsonReport) {
    TempDir dir("cli_dataset");
    const auto result = import({"--format", "derm7pt", "--source", (kFixtures / "derm7pt" / "release_v0").string(),
                                "--out", (dir / "d.csv").string(), "--view", "derm", "--label-set", "derm7pt-14",
                                "--json"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const json report = json::parse(result.out);
    EXPECT_EQ(report["rows_read"], 10);
    EXPECT_EQ(report["imported"], 10);
    EXPECT_EQ(report["label_set"], "derm7pt-14");
    EXPECT_EQ(report["split"]["sizes"], json({{"test", 3}, {"train", 5}, {"val", 2}}));
    EXPECT_EQ(report["labels"]["melanoma"], 2);
    EXPECT_EQ(report["images"]["missing"], 10);
    EXPECT_EQ(report["duplicate_images"], 0);
    EXPECT_EQ(report["notes"], json::array());
}

TEST(CliDatasetImport, UnknownLabelsAreRefusedOrSkippedWhenAsked) {
    TempDir dir("cli_dataset");
    const fs::path source = kFixtures / "fitzpatrick17k" / "fitzpatrick17k.csv";
    const auto refused = import({"--format", "fitzpatrick17k", "--source", source.string(), "--out",
                                 (dir / "f.csv").string(), "--label-set", "fitzpatrick17k-20"});
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_THAT(refused.err, HasSubstr(source.string() + "' line 2: label 'drug induced pigmentary changes' cannot be "
                                                          "mapped to label set 'fitzpatrick17k-20'"));
    EXPECT_FALSE(fs::exists(dir / "f.csv"));

    const auto skipped = import({"--format", "fitzpatrick17k", "--source", source.string(), "--out",
                                 (dir / "f.csv").string(), "--label-set", "fitzpatrick17k-20", "--skip-unknown"});
    EXPECT_EQ(skipped.exit_code, 0) << skipped.err;
    EXPECT_THAT(skipped.out, HasSubstr("rows: 9 read, 7 imported, 2 skipped"));
    EXPECT_THAT(skipped.out, HasSubstr("drug induced pigmentary changes 1, photodermatoses 1"));
    EXPECT_THAT(skipped.out, HasSubstr("each image on its own"));
}

TEST(CliDatasetImport, MissingAndMalformedFilesFailWithTheirNameAndLine) {
    TempDir dir("cli_dataset");
    const auto missing = import({"--format", "ham10000", "--source", (dir / "nowhere.csv").string(), "--out",
                                 (dir / "m.csv").string()});
    EXPECT_EQ(missing.exit_code, 3);
    EXPECT_THAT(missing.err, HasSubstr("HAM10000 metadata '" + (dir / "nowhere.csv").string() + "': file not found"));

    write_file(dir / "HAM10000_metadata.csv", "lesion_id,image_id,dx\nHAM_1,ISIC_1,nv\nHAM_2,ISIC_2,\"mel\n");
    const auto malformed = import({"--format", "ham10000", "--source", dir.path().string(), "--out",
                                   (dir / "m.csv").string()});
    EXPECT_EQ(malformed.exit_code, 3);
    EXPECT_THAT(malformed.err, HasSubstr("HAM10000_metadata.csv' line 3: a quoted field is never closed"));
    EXPECT_FALSE(fs::exists(dir / "m.csv"));
}

TEST(CliDatasetImport, BadOptionsExitTwo) {
    TempDir dir("cli_dataset");
    const std::string source = (kFixtures / "ham10000").string();
    const std::string out = (dir / "m.csv").string();
    const auto format = import({"--format", "ham", "--source", source, "--out", out});
    EXPECT_EQ(format.exit_code, 2);
    EXPECT_THAT(format.err, HasSubstr("unknown dataset format 'ham'"));
    const auto split = import({"--format", "ham10000", "--source", source, "--out", out, "--split", "6:x"});
    EXPECT_EQ(split.exit_code, 2);
    EXPECT_THAT(split.err, HasSubstr("split '6:x'"));
    const auto images = import({"--format", "ham10000", "--source", source, "--out", out, "--images",
                                (dir / "none").string()});
    EXPECT_EQ(images.exit_code, 2);
    EXPECT_THAT(images.err, HasSubstr("--images '" + (dir / "none").string() + "': no such folder"));
    const auto label_set = import({"--format", "folder", "--source", source, "--out", out});
    EXPECT_EQ(label_set.exit_code, 2);
    EXPECT_THAT(label_set.err, HasSubstr("format 'folder' has no label set of its own"));
    EXPECT_EQ(import({"--format", "ham10000", "--source", source}).exit_code, 2) << "--out is required";
}

}  // namespace
