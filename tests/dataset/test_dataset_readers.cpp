// Dataset readers on fixture files shaped like each dataset's real files
// (tests/dataset/fixtures/datasets/): rows, labels as the dataset writes them, official
// splits, patient/lesion groups, metadata, and errors naming the file and the line.
#include "dermlens/error.h"
#include "dataset/dataset.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>

namespace {

namespace fs = std::filesystem;
using dermlens::ErrorKind;
using dermlens::dataset::DatasetFormat;
using dermlens::dataset::DatasetRow;
using dermlens::dataset::DatasetTable;
using dermlens::dataset::Derm7ptView;
using dermlens::dataset::read_dataset;
using dermlens::test::expect_error;
using dermlens::test::TempDir;
using dermlens::test::write_file;
using testing::ElementsAre;
using testing::IsSupersetOf;

const fs::path kFixtures = fs::path(DERMLENS_SOURCE_DIR) / "tests" / "dataset" / "fixtures" / "datasets";

const DatasetRow & row_of(const DatasetTable & table, const std::string & image) {
    const auto it = std::find_if(table.rows.begin(), table.rows.end(), [&](const DatasetRow & row) { return row.image == image; });
    if (it == table.rows.end()) {
        throw std::runtime_error("no row for image " + image);
    }
    return *it;
}

std::string metadata_of(const DatasetTable & table, const DatasetRow & row, const std::string & column) {
    const auto it = std::find(table.metadata_columns.begin(), table.metadata_columns.end(), column);
    if (it == table.metadata_columns.end()) {
        throw std::runtime_error("no metadata column " + column);
    }
    return row.metadata[static_cast<std::size_t>(it - table.metadata_columns.begin())];
}

std::map<std::string, std::size_t> split_counts(const DatasetTable & table) {
    std::map<std::string, std::size_t> counts;
    for (const auto & row : table.rows) {
        ++counts[row.split];
    }
    return counts;
}

TEST(DatasetHam10000, ReadsEachImageWithItsLesionAsTheGroup) {
    const DatasetTable table = read_dataset(DatasetFormat::Ham10000, kFixtures / "ham10000");
    ASSERT_EQ(table.rows.size(), 18u);
    const DatasetRow & first = table.rows.front();
    EXPECT_EQ(first.image, "ISIC_0027419.jpg");
    EXPECT_EQ(first.label, "bkl");
    EXPECT_EQ(first.group, "HAM_0000118");
    EXPECT_EQ(first.split, "");
    EXPECT_EQ(first.line, 2u);
    EXPECT_EQ(first.file, kFixtures / "ham10000" / "HAM10000_metadata.csv");
    EXPECT_THAT(table.metadata_columns, ElementsAre("dx", "dx_type", "age", "sex", "localization"));
    EXPECT_EQ(metadata_of(table, row_of(table, "ISIC_0024693.jpg"), "dx_type"), "follow_up");
    EXPECT_EQ(row_of(table, "ISIC_0030623.jpg").group, "HAM_0000871");
    EXPECT_FALSE(table.has_official_split());
    EXPECT_EQ(table.group_column, "lesion_id");
    EXPECT_EQ(table.image_root, kFixtures / "ham10000");
}

TEST(DatasetHam10000, TakesTheMetadataFileItself) {
    const DatasetTable table = read_dataset(DatasetFormat::Ham10000, kFixtures / "ham10000" / "HAM10000_metadata.csv");
    EXPECT_EQ(table.rows.size(), 18u);
}

TEST(DatasetIsic2018, OneHotGroundTruthWithTheSplitOfEachFile) {
    const DatasetTable table = read_dataset(DatasetFormat::Isic2018, kFixtures / "isic2018");
    ASSERT_EQ(table.rows.size(), 4u + 11u + 4u);
    EXPECT_EQ(row_of(table, "ISIC_0024318.jpg").label, "DF");
    EXPECT_EQ(row_of(table, "ISIC_0024318.jpg").split, "train");
    EXPECT_EQ(row_of(table, "ISIC_0034323.jpg").label, "BCC");
    EXPECT_EQ(row_of(table, "ISIC_0034323.jpg").split, "val");
    EXPECT_EQ(row_of(table, "ISIC_0034329.jpg").label, "MEL");
    EXPECT_EQ(row_of(table, "ISIC_0034332.jpg").label, "AKIEC");
    EXPECT_EQ(row_of(table, "ISIC_0034524.jpg").split, "test");
    EXPECT_EQ(split_counts(table), (std::map<std::string, std::size_t>{{"test", 4}, {"train", 4}, {"val", 11}}));
    EXPECT_EQ(metadata_of(table, row_of(table, "ISIC_0034326.jpg"), "diagnosis"), "BKL");
    EXPECT_TRUE(table.has_official_split());
}

TEST(DatasetIsic2018, OneFileAloneIsNoSplit) {
    const DatasetTable table =
        read_dataset(DatasetFormat::Isic2018, kFixtures / "isic2018" / "ISIC2018_Task3_Validation_GroundTruth.csv");
    EXPECT_EQ(table.rows.size(), 11u);
    EXPECT_FALSE(table.has_official_split());
    EXPECT_EQ(split_counts(table), (std::map<std::string, std::size_t>{{"", 11}}));
}

TEST(DatasetIsic2018, RefusesGroundTruthThatIsNotOneHot) {
    TempDir dir("isic");
    const fs::path file = dir / "ISIC2018_Task3_Test_GroundTruth.csv";
    write_file(file, "image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nISIC_1,0.0,1.0,0.0,0.0,0.0,0.0,0.0\nISIC_2,1.0,1.0,0.0,0.0,0.0,0.0,0.0\n");
    expect_error([&] { read_dataset(DatasetFormat::Isic2018, file); }, ErrorKind::InvalidInput,
                 {file.string(), "line 3", "2 classes are marked 1 (MEL, NV)"});
    write_file(file, "image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nISIC_1,0.0,0.0,0.0,0.0,0.0,0.0,0.0\n");
    expect_error([&] { read_dataset(DatasetFormat::Isic2018, file); }, ErrorKind::InvalidInput,
                 {"line 2", "no class is marked 1"});
    write_file(file, "image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nISIC_1,0.0,yes,0.0,0.0,0.0,0.0,0.0\n");
    expect_error([&] { read_dataset(DatasetFormat::Isic2018, file); }, ErrorKind::InvalidInput,
                 {"line 2", "column 'NV' holds 'yes'"});
    write_file(file, "image,MEL,NV,BCC,AKIEC,BKL,DF\nISIC_1,0.0,1.0,0.0,0.0,0.0,0.0\n");
    expect_error([&] { read_dataset(DatasetFormat::Isic2018, file); }, ErrorKind::InvalidInput,
                 {file.string(), "no 'VASC' column"});
    expect_error([&] { read_dataset(DatasetFormat::Isic2018, dir.path() / "sub"); }, ErrorKind::InvalidInput,
                 {"file not found"});
    fs::create_directories(dir / "empty");
    expect_error([&] { read_dataset(DatasetFormat::Isic2018, dir / "empty"); }, ErrorKind::InvalidInput,
                 {"ISIC 2018 folder", "ISIC2018_Task3_Training_GroundTruth.csv"});
}

TEST(DatasetIsic2019, JoinsTheMetadataForLesionIds) {
    const DatasetTable table = read_dataset(DatasetFormat::Isic2019, kFixtures / "isic2019");
    ASSERT_EQ(table.rows.size(), 11u);
    EXPECT_EQ(row_of(table, "ISIC_0053454.jpg").label, "SCC");
    EXPECT_EQ(row_of(table, "ISIC_0053455.jpg").label, "AK");
    EXPECT_EQ(row_of(table, "ISIC_0053457.jpg").group, "BCN_0000021");
    EXPECT_EQ(row_of(table, "ISIC_0053458.jpg").group, "BCN_0000021");
    EXPECT_EQ(row_of(table, "ISIC_0000000.jpg").group, "");
    EXPECT_THAT(table.metadata_columns, IsSupersetOf({"diagnosis", "age_approx", "anatom_site_general", "sex"}));
    EXPECT_EQ(metadata_of(table, row_of(table, "ISIC_0053462.jpg"), "anatom_site_general"), "posterior torso");
    EXPECT_FALSE(table.has_official_split()) << "the training ground truth alone is one part";
    EXPECT_EQ(table.group_column, "lesion_id");
}

TEST(DatasetIsic2019, TheTestGroundTruthMakesTheOfficialSplit) {
    TempDir dir("isic2019");
    fs::copy(kFixtures / "isic2019", dir.path());
    write_file(dir / "ISIC_2019_Test_GroundTruth.csv",
               "image,MEL,NV,BCC,AK,BKL,DF,VASC,SCC,UNK,score_weight,validation_weight\n"
               "ISIC_0034321,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.0,1.0,0.0\n"
               "ISIC_0034322,0.0,1.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.0,0.0\n");
    const DatasetTable table = read_dataset(DatasetFormat::Isic2019, dir.path());
    EXPECT_TRUE(table.has_official_split());
    EXPECT_EQ(split_counts(table), (std::map<std::string, std::size_t>{{"test", 2}, {"train", 11}}));
    EXPECT_EQ(row_of(table, "ISIC_0034321.jpg").label, "UNK");
    EXPECT_EQ(metadata_of(table, row_of(table, "ISIC_0034322.jpg"), "score_weight"), "1.0");
    EXPECT_EQ(metadata_of(table, row_of(table, "ISIC_0053454.jpg"), "score_weight"), "");
}

TEST(DatasetBcn20000, ReadsItsTrainingMetadataGroupedByLesion) {
    const DatasetTable table = read_dataset(DatasetFormat::Bcn20000, kFixtures / "bcn20000");
    ASSERT_EQ(table.rows.size(), 10u);
    EXPECT_EQ(table.rows[0].image, "BCN_0000000001.jpg");
    EXPECT_EQ(table.rows[0].label, "MEL");
    EXPECT_EQ(table.rows[0].group, "BCN_0003884");
    EXPECT_EQ(row_of(table, "BCN_0000000011.jpg").group, row_of(table, "BCN_0000000010.jpg").group);
    EXPECT_THAT(table.metadata_columns, ElementsAre("age_approx", "anatom_site_general", "diagnosis", "capture_date",
                                                    "sex", "split"));
    EXPECT_FALSE(table.has_official_split());
}

TEST(DatasetPadUfes20, GroupsByPatientAndReadsTheSkinType) {
    const DatasetTable table = read_dataset(DatasetFormat::PadUfes20, kFixtures / "pad-ufes-20" / "metadata.csv");
    ASSERT_EQ(table.rows.size(), 10u);
    const DatasetRow & bcc = row_of(table, "PAT_46_881_939.png");
    EXPECT_EQ(bcc.label, "BCC");
    EXPECT_EQ(bcc.group, "PAT_46");
    EXPECT_EQ(row_of(table, "PAT_46_882_940.png").group, "PAT_46");
    EXPECT_EQ(metadata_of(table, bcc, "lesion_id"), "881");
    EXPECT_EQ(metadata_of(table, bcc, "skin_type"), "3");
    EXPECT_EQ(metadata_of(table, bcc, "region"), "NECK");
    EXPECT_EQ(metadata_of(table, row_of(table, "PAT_684_1302_588.png"), "skin_type"), "1");
    EXPECT_EQ(metadata_of(table, row_of(table, "PAT_1516_1765_530.png"), "skin_type"), "") << "no Fitzpatrick type given";
    EXPECT_EQ(table.group_column, "patient_id");
}

TEST(DatasetFitzpatrick17k, NamesImagesByHashAndKeepsTheSkinType) {
    const DatasetTable table = read_dataset(DatasetFormat::Fitzpatrick17k, kFixtures / "fitzpatrick17k");
    ASSERT_EQ(table.rows.size(), 9u);
    const DatasetRow & scc = row_of(table, "b17ba3ff7f6ce4c9cd1eab5ab7e5bfb8.jpg");
    EXPECT_EQ(scc.label, "squamous cell carcinoma");
    EXPECT_EQ(scc.line, 6u);
    EXPECT_EQ(metadata_of(table, scc, "skin_type"), "5");
    EXPECT_EQ(metadata_of(table, scc, "qc"), "1 Diagnostic");
    EXPECT_EQ(metadata_of(table, row_of(table, "0a94359e7eaacd7178e06b2823777789.jpg"), "skin_type"), "")
        << "fitzpatrick_scale -1 is unknown";
    EXPECT_EQ(table.group_column, "");
}

TEST(DatasetDdi, ReadsDiseaseAndSkinTonePairs) {
    const DatasetTable table = read_dataset(DatasetFormat::Ddi, kFixtures / "ddi");
    ASSERT_EQ(table.rows.size(), 8u);
    EXPECT_EQ(table.rows[0].image, "000001.png");
    EXPECT_EQ(table.rows[0].label, "melanoma-in-situ");
    EXPECT_EQ(metadata_of(table, table.rows[0], "skin_type"), "5-6");
    EXPECT_EQ(metadata_of(table, table.rows[4], "skin_type"), "1-2");
    EXPECT_EQ(metadata_of(table, table.rows[5], "malignant"), "False");

    TempDir dir("ddi");
    write_file(dir / "ddi_metadata.csv", ",DDI_ID,DDI_file,skin_tone,malignant,disease\n0,1,000001.png,12,True,melanoma\n");
    const DatasetTable indexed = read_dataset(DatasetFormat::Ddi, dir.path());
    EXPECT_THAT(indexed.metadata_columns, ElementsAre("DDI_ID", "skin_tone", "malignant", "disease", "skin_type"))
        << "a saved pandas index (a column without a name) is left out";
    write_file(dir / "ddi_metadata.csv", "DDI_ID,DDI_file,skin_tone,malignant,disease\n1,000001.png,45,True,melanoma\n");
    expect_error([&] { read_dataset(DatasetFormat::Ddi, dir.path()); }, ErrorKind::InvalidInput,
                 {"ddi_metadata.csv", "line 2", "skin_tone '45'"});
}

TEST(DatasetDerm7pt, BothViewsOfEachCaseInItsOfficialSplit) {
    const fs::path release = kFixtures / "derm7pt" / "release_v0";
    const DatasetTable table = read_dataset(DatasetFormat::Derm7pt, release);
    ASSERT_EQ(table.rows.size(), 20u);
    const DatasetRow & clinic = row_of(table, "NEL/Nel026.jpg");
    const DatasetRow & derm = row_of(table, "NEL/Nel025.jpg");
    EXPECT_EQ(clinic.label, "basal cell carcinoma");
    EXPECT_EQ(clinic.group, "1");
    EXPECT_EQ(derm.group, "1");
    EXPECT_EQ(metadata_of(table, clinic, "view"), "clinic");
    EXPECT_EQ(metadata_of(table, derm, "view"), "derm");
    // train_indexes.csv lists rows 0 2 3 5 8, valid 1 6, test 4 7 9 (0-based rows of meta.csv).
    EXPECT_EQ(clinic.split, "train");
    EXPECT_EQ(row_of(table, "NEL/Nel027.jpg").split, "val");
    EXPECT_EQ(row_of(table, "Abl/Abl015.jpg").split, "test");
    EXPECT_EQ(row_of(table, "Gal/Gal003.jpg").split, "test");
    EXPECT_EQ(split_counts(table), (std::map<std::string, std::size_t>{{"test", 6}, {"train", 10}, {"val", 4}}));
    EXPECT_EQ(row_of(table, "Fdl/Fdl060.jpg").label, "melanoma (in situ)") << "the diagnosis as the file writes it";
    EXPECT_EQ(metadata_of(table, row_of(table, "Fdl/Fdl060.jpg"), "diagnosis"), "melanoma (in situ)");
    EXPECT_EQ(metadata_of(table, row_of(table, "Fdl/Fdl060.jpg"), "notes"), "excision, \"in situ\" confirmed");
    EXPECT_EQ(table.image_root, release / "images");
    EXPECT_TRUE(table.has_official_split());

    const DatasetTable derm_only = read_dataset(DatasetFormat::Derm7pt, release / "meta" / "meta.csv", Derm7ptView::Derm);
    ASSERT_EQ(derm_only.rows.size(), 10u);
    EXPECT_EQ(derm_only.rows[0].image, "NEL/Nel025.jpg");
}

TEST(DatasetDerm7pt, RefusesIndexFilesThatDoNotCoverTheCasesOnce) {
    TempDir dir("derm7pt");
    fs::copy(kFixtures / "derm7pt", dir.path(), fs::copy_options::recursive);
    const fs::path meta = dir / "release_v0" / "meta";
    write_file(meta / "test_indexes.csv", "indexes\n4\n7\n9\n10\n");
    expect_error([&] { read_dataset(DatasetFormat::Derm7pt, dir / "release_v0"); }, ErrorKind::InvalidInput,
                 {"test_indexes.csv", "line 5", "index '10' is not a row of meta.csv (0 to 9)"});
    write_file(meta / "test_indexes.csv", "indexes\n4\n7\n9\n0\n");
    expect_error([&] { read_dataset(DatasetFormat::Derm7pt, dir / "release_v0"); }, ErrorKind::InvalidInput,
                 {"test_indexes.csv", "line 5", "row 0 is already listed in train_indexes.csv line 2"});
    write_file(meta / "test_indexes.csv", "indexes\n4\n7\n");
    expect_error([&] { read_dataset(DatasetFormat::Derm7pt, dir / "release_v0"); }, ErrorKind::InvalidInput,
                 {"meta.csv", "line 11", "in none of"});
    fs::remove(meta / "valid_indexes.csv");
    expect_error([&] { read_dataset(DatasetFormat::Derm7pt, dir / "release_v0"); }, ErrorKind::InvalidInput,
                 {"but not valid_indexes.csv"});
    fs::remove(meta / "train_indexes.csv");
    fs::remove(meta / "test_indexes.csv");
    const DatasetTable unsplit = read_dataset(DatasetFormat::Derm7pt, dir / "release_v0");
    EXPECT_FALSE(unsplit.has_official_split());
    EXPECT_EQ(unsplit.rows.size(), 20u);
}

TEST(DatasetDerm12345, TrainAndTestFilesAreTheOfficialSplit) {
    const DatasetTable table = read_dataset(DatasetFormat::Derm12345, kFixtures / "derm12345");
    ASSERT_EQ(table.rows.size(), 9u);
    EXPECT_EQ(table.rows[0].image, "derm_000001.jpg");
    EXPECT_EQ(table.rows[0].label, "acb");
    EXPECT_EQ(table.rows[0].split, "train");
    EXPECT_EQ(row_of(table, "derm_000008.jpg").split, "test");
    EXPECT_EQ(metadata_of(table, row_of(table, "derm_000008.jpg"), "sub_class"), "lentigo maligna");
    EXPECT_TRUE(table.has_official_split());
}

TEST(DatasetFolder, ClassFoldersAndSplitFolders) {
    const fs::path isic = fs::path(DERMLENS_SHARED_DIR) / "data" / "images" / "isic9class";
    const DatasetTable flat = read_dataset(DatasetFormat::Folder, isic);
    ASSERT_EQ(flat.rows.size(), 144u);
    std::set<std::string> labels;
    for (const auto & row : flat.rows) {
        labels.insert(row.label);
    }
    EXPECT_EQ(labels.size(), 9u);
    EXPECT_EQ(flat.rows[0].image, "actinic_keratosis/ISIC_0010512.jpg");
    EXPECT_FALSE(flat.has_official_split());

    TempDir dir("tree");
    write_file(dir / "train" / "Eczema Photos" / "a.jpg", "x");
    write_file(dir / "test" / "Eczema Photos" / "b.jpg", "x");
    const DatasetTable split = read_dataset(DatasetFormat::Folder, dir.path());
    ASSERT_EQ(split.rows.size(), 2u);
    EXPECT_EQ(row_of(split, "train/Eczema Photos/a.jpg").split, "train");
    EXPECT_EQ(row_of(split, "test/Eczema Photos/b.jpg").split, "test");
    EXPECT_EQ(row_of(split, "test/Eczema Photos/b.jpg").label, "Eczema Photos");
    EXPECT_TRUE(split.has_official_split());
}

TEST(DatasetCsvErrors, NameTheFileTheLineAndTheReason) {
    TempDir dir("bad");
    const fs::path file = dir / "HAM10000_metadata.csv";
    write_file(file, "lesion_id,image_id,dx\nHAM_1,ISIC_1,nv\nHAM_2,\"ISIC_2,mel\n");
    expect_error([&] { read_dataset(DatasetFormat::Ham10000, file); }, ErrorKind::InvalidInput,
                 {"HAM10000 metadata '" + file.string() + "' line 3", "never closed"});
    write_file(file, "lesion_id,image_id,dx\nHAM_1,ISIC_1\n");
    expect_error([&] { read_dataset(DatasetFormat::Ham10000, file); }, ErrorKind::InvalidInput,
                 {"line 2", "2 fields, but the header has 3"});
    write_file(file, "lesion_id,image_id,dx\nHAM_1,ISIC_1, \n");
    expect_error([&] { read_dataset(DatasetFormat::Ham10000, file); }, ErrorKind::InvalidInput, {"line 2", "empty 'dx'"});
    write_file(file, "lesion_id,image,dx\nHAM_1,ISIC_1,nv\n");
    expect_error([&] { read_dataset(DatasetFormat::Ham10000, file); }, ErrorKind::InvalidInput,
                 {"no 'image_id' column", "lesion_id,image,dx"});
    write_file(file, "");
    expect_error([&] { read_dataset(DatasetFormat::Ham10000, file); }, ErrorKind::InvalidInput, {"empty file"});
    expect_error([&] { read_dataset(DatasetFormat::PadUfes20, dir.path()); }, ErrorKind::InvalidInput,
                 {"PAD-UFES-20 folder", "no metadata.csv"});
}

TEST(DatasetFormats, Derm7ptViewsByName) {
    EXPECT_EQ(dermlens::dataset::parse_derm7pt_view("both"), Derm7ptView::Both);
    EXPECT_EQ(dermlens::dataset::parse_derm7pt_view("clinic"), Derm7ptView::Clinic);
    EXPECT_EQ(dermlens::dataset::parse_derm7pt_view("derm"), Derm7ptView::Derm);
    expect_error([] { dermlens::dataset::parse_derm7pt_view("dermoscopic"); }, ErrorKind::InvalidArgument,
                 {"Derm7pt view 'dermoscopic'", "both, clinic or derm"});
}

TEST(DatasetFormats, NamesRoundTripAndUnknownOnesAreRefused) {
    for (const auto name : dermlens::dataset::dataset_format_names()) {
        EXPECT_EQ(dermlens::dataset::dataset_format_name(dermlens::dataset::parse_dataset_format(name)), name);
    }
    expect_error([] { dermlens::dataset::parse_dataset_format("ham"); }, ErrorKind::InvalidArgument,
                 {"unknown dataset format 'ham'", "ham10000, isic2018"});
}

}  // namespace
