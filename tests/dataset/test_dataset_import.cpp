// import_dataset on the shipped knowledge base: labels mapped through label sets (with
// roll-up and skipping), seeded splits that keep each patient/lesion in one split (on the
// real HAM10000_metadata.csv too), images found below the image folder, and the manifest
// written as a CSV that read_manifest reads back.
#include "dermlens/error.h"
#include "dataset/dataset.h"
#include "dataset/dataset_labels.h"
#include "dataset/manifest.h"
#include "dataset/manifest_write.h"
#include "dermlens/kb/knowledge_base.h"
#include "support/expect_error.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>

namespace {

namespace fs = std::filesystem;
using dermlens::ErrorKind;
using dermlens::dataset::DatasetFormat;
using dermlens::dataset::ImportOptions;
using dermlens::dataset::ImportResult;
using dermlens::dataset::import_dataset;
using dermlens::dataset::Manifest;
using dermlens::dataset::ManifestRow;
using dermlens::kb::KnowledgeBase;
using dermlens::test::expect_error;
using dermlens::test::TempDir;
using dermlens::test::write_file;
using testing::Contains;
using testing::ElementsAre;
using testing::Not;

const fs::path kFixtures = fs::path(DERMLENS_SOURCE_DIR) / "tests" / "dataset" / "fixtures" / "datasets";
const fs::path kHamMetadata = fs::path(DERMLENS_SHARED_DIR) / "data" / "labels" / "HAM10000_metadata.csv";

const KnowledgeBase & shipped_kb() {
    static const KnowledgeBase base = KnowledgeBase::load({fs::path(DERMLENS_SOURCE_DIR) / "data" / "kb"});
    return base;
}

ImportOptions options_for(DatasetFormat format, const fs::path & source) {
    ImportOptions options;
    options.format = format;
    options.source = source;
    return options;
}

const ManifestRow & row_of(const Manifest & manifest, const std::string & file_name) {
    const auto it = std::find_if(manifest.rows.begin(), manifest.rows.end(),
                                 [&](const ManifestRow & row) { return row.image.filename() == file_name; });
    if (it == manifest.rows.end()) {
        throw std::runtime_error("no row for image " + file_name);
    }
    return *it;
}

std::string metadata_of(const Manifest & manifest, const ManifestRow & row, const std::string & column) {
    const auto it = std::find(manifest.metadata_columns.begin(), manifest.metadata_columns.end(), column);
    if (it == manifest.metadata_columns.end()) {
        throw std::runtime_error("no metadata column " + column);
    }
    return row.metadata[static_cast<std::size_t>(it - manifest.metadata_columns.begin())];
}

// patient -> the splits its rows are in.
std::map<std::string, std::set<std::string>> splits_per_patient(const Manifest & manifest) {
    std::map<std::string, std::set<std::string>> splits;
    for (const auto & row : manifest.rows) {
        splits[row.patient_id].insert(row.split);
    }
    return splits;
}

void expect_no_patient_in_two_splits(const Manifest & manifest) {
    for (const auto & [patient, splits] : splits_per_patient(manifest)) {
        EXPECT_EQ(splits.size(), 1u) << "patient/lesion " << patient << " is in " << splits.size() << " splits";
    }
}

std::map<std::string, std::size_t> split_counts(const Manifest & manifest) {
    std::map<std::string, std::size_t> counts;
    for (const auto & row : manifest.rows) {
        ++counts[row.split];
    }
    return counts;
}

TEST(ImportHam10000, LabelsAreTheLabelSetsAndLesionsStayInOneSplit) {
    const ImportResult result = import_dataset(shipped_kb(), options_for(DatasetFormat::Ham10000, kFixtures / "ham10000"));
    const Manifest & manifest = result.manifest;
    ASSERT_EQ(manifest.size(), 18u);
    EXPECT_EQ(result.report.rows_read, 18u);
    EXPECT_EQ(result.report.skipped(), 0u);
    const ManifestRow & first = row_of(manifest, "ISIC_0027419.jpg");
    EXPECT_EQ(first.label, "bkl");
    EXPECT_EQ(first.patient_id, "HAM_0000118");
    EXPECT_EQ(metadata_of(manifest, first, "localization"), "scalp");
    EXPECT_EQ(manifest.labels(), (std::vector<std::string>{"akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"}));
    for (const auto & row : manifest.rows) {
        EXPECT_THAT((std::vector<std::string>{"train", "val", "test"}), Contains(row.split));
    }
    expect_no_patient_in_two_splits(manifest);
    EXPECT_THAT(result.report.split_source, testing::HasSubstr("grouped by lesion_id"));
}

TEST(ImportHam10000, TheRealMetadataSplitsSixTwoTwoWithNoLesionInTwoSplits) {
    ImportOptions options = options_for(DatasetFormat::Ham10000, kHamMetadata);
    options.seed = 7;
    const ImportResult result = import_dataset(shipped_kb(), options);
    const Manifest & manifest = result.manifest;
    ASSERT_EQ(manifest.size(), 10015u);
    expect_no_patient_in_two_splits(manifest);
    EXPECT_EQ(splits_per_patient(manifest).size(), 7470u) << "HAM10000 has 7470 lesions";
    const auto counts = split_counts(manifest);
    ASSERT_EQ(counts.size(), 3u);
    EXPECT_NEAR(static_cast<double>(counts.at("train")) / 10015.0, 0.6, 0.02);
    EXPECT_NEAR(static_cast<double>(counts.at("val")) / 10015.0, 0.2, 0.02);
    EXPECT_NEAR(static_cast<double>(counts.at("test")) / 10015.0, 0.2, 0.02);
    // Every class is in every split (stratified), even the 115 dermatofibromas.
    std::set<std::pair<std::string, std::string>> label_split;
    for (const auto & row : manifest.rows) {
        label_split.emplace(row.label, row.split);
    }
    EXPECT_EQ(label_split.size(), 7u * 3u);

    const ImportResult again = import_dataset(shipped_kb(), options);
    options.seed = 8;
    const ImportResult other_seed = import_dataset(shipped_kb(), options);
    std::size_t same = 0;
    std::size_t moved = 0;
    for (std::size_t i = 0; i < manifest.size(); ++i) {
        same += again.manifest.rows[i].split == manifest.rows[i].split;
        moved += other_seed.manifest.rows[i].split != manifest.rows[i].split;
    }
    EXPECT_EQ(same, manifest.size()) << "the same seed gives the same split";
    EXPECT_GT(moved, manifest.size() / 10) << "another seed gives another split";
    expect_no_patient_in_two_splits(other_seed.manifest);
}

TEST(ImportHam10000, FindsImagesBelowTheImageFolderAndCountsTheMissing) {
    TempDir dir("ham");
    fs::copy(kFixtures / "ham10000" / "HAM10000_metadata.csv", dir / "HAM10000_metadata.csv");
    write_file(dir / "HAM10000_images_part_1" / "ISIC_0027419.jpg", "x");
    write_file(dir / "HAM10000_images_part_2" / "ISIC_0025030.jpg", "x");
    write_file(dir / "ISIC_0031633.jpg", "x");
    const ImportResult result = import_dataset(shipped_kb(), options_for(DatasetFormat::Ham10000, dir.path()));
    EXPECT_EQ(row_of(result.manifest, "ISIC_0027419.jpg").image,
              fs::absolute(dir / "HAM10000_images_part_1" / "ISIC_0027419.jpg"));
    EXPECT_EQ(row_of(result.manifest, "ISIC_0025030.jpg").image,
              fs::absolute(dir / "HAM10000_images_part_2" / "ISIC_0025030.jpg"));
    EXPECT_EQ(row_of(result.manifest, "ISIC_0031633.jpg").image, fs::absolute(dir / "ISIC_0031633.jpg"));
    EXPECT_EQ(result.report.missing_images, 15u);
    EXPECT_EQ(result.report.first_missing_image, "ISIC_0026769.jpg");
    EXPECT_EQ(row_of(result.manifest, "ISIC_0026769.jpg").image, fs::absolute(dir / "ISIC_0026769.jpg"));

    // The shared HAM10000 images sit in one folder per dx; --images points there.
    ImportOptions shared = options_for(DatasetFormat::Ham10000, kHamMetadata);
    shared.images = fs::path(DERMLENS_SHARED_DIR) / "data" / "images" / "ham10000";
    const ImportResult found = import_dataset(shipped_kb(), shared);
    EXPECT_EQ(found.report.missing_images, 10015u - 5u);
    for (const auto & row : found.manifest.rows) {
        if (fs::exists(row.image)) {
            EXPECT_EQ(row.image.parent_path().filename(), row.label) << row.image;
        }
    }
}

TEST(ImportIsic2018, KeepsTheOfficialSplitWhateverTheSeed) {
    const fs::path labels = fs::path(DERMLENS_SHARED_DIR) / "data" / "labels";
    ImportOptions options = options_for(DatasetFormat::Isic2018, labels);
    options.seed = 123;
    const ImportResult result = import_dataset(shipped_kb(), options);
    EXPECT_EQ(result.manifest.size(), 193u + 1512u);
    EXPECT_EQ(split_counts(result.manifest), (std::map<std::string, std::size_t>{{"test", 1512}, {"val", 193}}));
    EXPECT_EQ(row_of(result.manifest, "ISIC_0034323.jpg").label, "bcc") << "ISIC 2018's BCC is HAM10000's bcc";
    EXPECT_EQ(row_of(result.manifest, "ISIC_0034332.jpg").label, "akiec");
    EXPECT_THAT(result.report.split_source, testing::StartsWith("official"));
}

TEST(ImportLabels, AnUnmappableLabelIsAnErrorNamingFileLineAndLabel) {
    const fs::path source = kFixtures / "fitzpatrick17k" / "fitzpatrick17k.csv";
    ImportOptions twenty = options_for(DatasetFormat::Fitzpatrick17k, source);
    twenty.label_set = "fitzpatrick17k-20";
    expect_error([&] { import_dataset(shipped_kb(), twenty); }, ErrorKind::InvalidArgument,
                 {"'" + source.string() + "' line 2", "label 'drug induced pigmentary changes'",
                  "label set 'fitzpatrick17k-20'", "skip_unknown leaves such rows out"});

    ImportOptions skip = twenty;
    skip.skip_unknown = true;
    const ImportResult result = import_dataset(shipped_kb(), skip);
    EXPECT_EQ(result.report.skipped_labels,
              (std::map<std::string, std::size_t>{{"drug induced pigmentary changes", 1}, {"photodermatoses", 1}}));
    EXPECT_EQ(result.manifest.size(), 7u);
    EXPECT_EQ(result.manifest.labels(), (std::vector<std::string>{"basal cell carcinoma", "lichen planus", "melanoma",
                                                                  "psoriasis", "squamous cell carcinoma", "vitiligo"}));
    const ManifestRow & scc = row_of(result.manifest, "b17ba3ff7f6ce4c9cd1eab5ab7e5bfb8.jpg");
    EXPECT_EQ(metadata_of(result.manifest, scc, "skin_type"), "5");
    EXPECT_EQ(metadata_of(result.manifest, scc, "dataset_label"), "squamous cell carcinoma")
        << "the dataset's own 'label' column is kept under another name";
    EXPECT_THAT(result.manifest.metadata_columns, Not(Contains("label")));
}

TEST(ImportLabels, MapsIntoAnotherDatasetsLabelSetByCondition) {
    ImportOptions options = options_for(DatasetFormat::PadUfes20, kFixtures / "pad-ufes-20");
    options.label_set = "isic2019";
    options.skip_unknown = true;
    const ImportResult result = import_dataset(shipped_kb(), options);
    EXPECT_EQ(row_of(result.manifest, "PAT_46_882_940.png").label, "AK");
    EXPECT_EQ(row_of(result.manifest, "PAT_1516_1765_530.png").label, "NV");
    EXPECT_EQ(row_of(result.manifest, "PAT_331_687_165.png").label, "MEL");
    EXPECT_EQ(result.report.skipped_labels, (std::map<std::string, std::size_t>{{"SEK", 1}}))
        << "isic2019 has BKL but no seborrheic keratosis of its own";

    options.roll_up = true;
    const ImportResult rolled = import_dataset(shipped_kb(), options);
    EXPECT_EQ(row_of(rolled.manifest, "PAT_995_1867_165.png").label, "BKL") << "seborrheic keratosis rolls up to BKL";
    EXPECT_EQ(rolled.report.skipped(), 0u);
}

TEST(ImportLabels, Derm12345ReachesItsCoarserLabelSetsThroughItsTaxonomy) {
    ImportOptions options = options_for(DatasetFormat::Derm12345, kFixtures / "derm12345");
    const ImportResult fine = import_dataset(shipped_kb(), options);
    EXPECT_EQ(row_of(fine.manifest, "derm_000001.jpg").label, "acb");
    EXPECT_EQ(split_counts(fine.manifest), (std::map<std::string, std::size_t>{{"test", 3}, {"train", 6}}));

    options.label_set = "derm12345-15";
    const ImportResult main_classes = import_dataset(shipped_kb(), options);
    EXPECT_EQ(row_of(main_classes.manifest, "derm_000001.jpg").label, "banal compound");
    EXPECT_EQ(row_of(main_classes.manifest, "derm_000002.jpg").label, "banal compound");
    EXPECT_EQ(row_of(main_classes.manifest, "derm_000007.jpg").label, "banal junctional");
    EXPECT_EQ(row_of(main_classes.manifest, "derm_000008.jpg").label, "melanoma") << "lentigo maligna is a melanoma";
    EXPECT_EQ(row_of(main_classes.manifest, "derm_000005.jpg").label, "malignant keratinocytic");
    EXPECT_EQ(row_of(main_classes.manifest, "derm_000009.jpg").label, "indeterminate keratinocytic");

    options.label_set = "derm12345-5";
    const ImportResult super_classes = import_dataset(shipped_kb(), options);
    EXPECT_EQ(row_of(super_classes.manifest, "derm_000001.jpg").label, "melanocytic benign");
    EXPECT_EQ(row_of(super_classes.manifest, "derm_000008.jpg").label, "melanocytic malignant");
    EXPECT_EQ(row_of(super_classes.manifest, "derm_000004.jpg").label, "nonmelanocytic benign");
    EXPECT_EQ(row_of(super_classes.manifest, "derm_000006.jpg").label, "nonmelanocytic benign");
    EXPECT_EQ(row_of(super_classes.manifest, "derm_000009.jpg").label, "nonmelanocytic indeterminate");
    EXPECT_EQ(row_of(super_classes.manifest, "derm_000005.jpg").label, "nonmelanocytic malignant");
}

TEST(ImportLabels, EveryDerm12345SubclassHasAMainClassAndASuperClass) {
    TempDir dir("derm12345");
    std::string csv = "image_id,label\n";
    for (const auto & label : shipped_kb().label_set("derm12345-40").labels) {
        csv += "img_" + label.label + "," + label.label + "\n";
    }
    write_file(dir / "derm12345_metadata_train.csv", csv);
    ImportOptions options = options_for(DatasetFormat::Derm12345, dir.path());
    options.label_set = "derm12345-15";
    const ImportResult main_classes = import_dataset(shipped_kb(), options);
    EXPECT_EQ(main_classes.manifest.size(), 40u);
    EXPECT_EQ(main_classes.manifest.labels().size(), 15u);
    EXPECT_EQ(row_of(main_classes.manifest, "img_ks.jpg").label, "malignant vascular");
    EXPECT_EQ(row_of(main_classes.manifest, "img_dfsp.jpg").label, "malignant fibro-histiocytic");
    EXPECT_EQ(row_of(main_classes.manifest, "img_rd.jpg").label, "dysplastic recurrent");
    EXPECT_EQ(row_of(main_classes.manifest, "img_sa.jpg").label, "benign vascular");
    EXPECT_EQ(row_of(main_classes.manifest, "img_bdb.jpg").label, "banal dermal");
    options.label_set = "derm12345-5";
    const ImportResult super_classes = import_dataset(shipped_kb(), options);
    EXPECT_EQ(super_classes.manifest.labels().size(), 5u);
    EXPECT_EQ(row_of(super_classes.manifest, "img_srjd.jpg").label, "melanocytic benign");
    EXPECT_EQ(row_of(super_classes.manifest, "img_alm.jpg").label, "melanocytic malignant");
    EXPECT_EQ(row_of(super_classes.manifest, "img_ks.jpg").label, "nonmelanocytic malignant");
}

TEST(ImportLabels, DdiNeedsALabelSetAndResolvesItsDiseaseNames) {
    ImportOptions options = options_for(DatasetFormat::Ddi, kFixtures / "ddi");
    const ImportResult own = import_dataset(shipped_kb(), options);
    EXPECT_EQ(row_of(own.manifest, "000001.png").label, "melanoma-in-situ") << "DDI's own label set keeps its names";
    EXPECT_EQ(own.report.skipped(), 0u);
    options.label_set = "isic9class";
    options.skip_unknown = true;
    options.roll_up = true;
    const ImportResult result = import_dataset(shipped_kb(), options);
    EXPECT_EQ(row_of(result.manifest, "000001.png").label, "melanoma") << "melanoma in situ rolls up to melanoma";
    EXPECT_EQ(row_of(result.manifest, "000005.png").label, "basal_cell_carcinoma");
    EXPECT_EQ(row_of(result.manifest, "000006.png").label, "seborrheic_keratosis");
    EXPECT_EQ(metadata_of(result.manifest, row_of(result.manifest, "000006.png"), "skin_type"), "1-2");
    EXPECT_EQ(result.report.skipped_labels.count("verruca-vulgaris"), 1u);
    EXPECT_FALSE(result.report.split_source.empty());
    EXPECT_THAT(result.report.split_source, testing::HasSubstr("each image on its own"));
}

TEST(ImportLabels, Derm7ptClassesMapToDerm7pt14) {
    ImportOptions options = options_for(DatasetFormat::Derm7pt, kFixtures / "derm7pt" / "release_v0");
    const ImportResult own = import_dataset(shipped_kb(), options);
    EXPECT_EQ(row_of(own.manifest, "Fdl060.jpg").label, "melanoma (in situ)") << "derm7pt-20 keeps every diagnosis";
    options.label_set = "derm7pt-14";
    const ImportResult result = import_dataset(shipped_kb(), options);
    EXPECT_EQ(result.manifest.size(), 20u);
    EXPECT_EQ(row_of(result.manifest, "Fdl060.jpg").label, "melanoma");
    EXPECT_EQ(row_of(result.manifest, "Aal003.jpg").label, "clark nevus");
    EXPECT_EQ(row_of(result.manifest, "Ddl002.jpg").label, "dermal nevus");
    EXPECT_EQ(row_of(result.manifest, "Ddl002.jpg").split, "train");
    EXPECT_EQ(row_of(result.manifest, "Ddl002.jpg").patient_id, "9");
    EXPECT_EQ(row_of(result.manifest, "Ddl002.jpg").image,
              fs::absolute(kFixtures / "derm7pt" / "release_v0" / "images" / "Ddl" / "Ddl002.jpg"));
}

TEST(ImportSplits, EightTwoHasNoValidationAndPatientsStayTogether) {
    ImportOptions options = options_for(DatasetFormat::Bcn20000, kFixtures / "bcn20000");
    options.split = dermlens::dataset::parse_split_ratio("8:2");
    const ImportResult result = import_dataset(shipped_kb(), options);
    for (const auto & row : result.manifest.rows) {
        EXPECT_TRUE(row.split == "train" || row.split == "test") << row.split;
    }
    EXPECT_EQ(row_of(result.manifest, "BCN_0000000010.jpg").split, row_of(result.manifest, "BCN_0000000011.jpg").split);
    EXPECT_EQ(metadata_of(result.manifest, result.manifest.rows[0], "dataset_split"), "train");
}

TEST(ImportSplits, RatiosParse) {
    using dermlens::dataset::parse_split_ratio;
    const auto six_two_two = parse_split_ratio("6:2:2");
    EXPECT_DOUBLE_EQ(six_two_two.train, 0.6);
    EXPECT_DOUBLE_EQ(six_two_two.val, 0.2);
    EXPECT_DOUBLE_EQ(six_two_two.calib, 0.0);
    EXPECT_DOUBLE_EQ(six_two_two.test, 0.2);
    const auto eight_two = parse_split_ratio("8:2");
    EXPECT_DOUBLE_EQ(eight_two.train, 0.8);
    EXPECT_DOUBLE_EQ(eight_two.val, 0.0);
    EXPECT_DOUBLE_EQ(eight_two.test, 0.2);
    const auto four = parse_split_ratio("60:10:15:15");
    EXPECT_DOUBLE_EQ(four.calib, 0.15);
    for (const char * bad : {"6", "6:2:x", "0:5", "6::2", "1:2:3:4:5", "-1:2"}) {
        expect_error([&] { parse_split_ratio(bad); }, ErrorKind::InvalidArgument, {std::string("split '") + bad + "'"});
    }
}

TEST(ImportQuirks, AnImageListedTwiceIsImportedOnceAndReported) {
    TempDir dir("dup");
    write_file(dir / "HAM10000_metadata.csv",
               "lesion_id,image_id,dx,dx_type,age,sex,localization\n"
               "HAM_1,ISIC_1,nv,histo,50.0,male,back\n"
               "HAM_2,ISIC_1,mel,histo,50.0,male,back\n"
               "HAM_3,ISIC_2,bkl,histo,50.0,male,back\n");
    const ImportResult result = import_dataset(shipped_kb(), options_for(DatasetFormat::Ham10000, dir.path()));
    EXPECT_EQ(result.manifest.size(), 2u);
    EXPECT_EQ(row_of(result.manifest, "ISIC_1.jpg").label, "nv") << "the first row listing the image wins";
    EXPECT_EQ(result.report.duplicate_images, 1u);
    ASSERT_EQ(result.report.notes.size(), 1u);
    EXPECT_THAT(result.report.notes[0], testing::AllOf(testing::HasSubstr("line 3"),
                                                       testing::HasSubstr("image 'ISIC_1.jpg' is already listed at"),
                                                       testing::HasSubstr("line 2"), testing::HasSubstr("left out")));
}

TEST(ImportErrors, AnUnknownLabelSetIsRefused) {
    ImportOptions options = options_for(DatasetFormat::Ham10000, kFixtures / "ham10000");
    options.label_set = "ham";
    EXPECT_THROW(import_dataset(shipped_kb(), options), dermlens::Error);
}

TEST(ManifestWrite, ReadsBackAsTheSameManifest) {
    TempDir dir("write");
    const ImportResult result = import_dataset(shipped_kb(), options_for(DatasetFormat::Derm7pt, kFixtures / "derm7pt"
                                                                                                   / "release_v0"));
    const fs::path csv = dir / "out" / "derm7pt.csv";
    fs::create_directories(csv.parent_path());
    dermlens::dataset::write_manifest_csv(result.manifest, csv);
    const Manifest back = dermlens::dataset::read_manifest(csv);
    EXPECT_EQ(back.metadata_columns, result.manifest.metadata_columns);
    ASSERT_EQ(back.size(), result.manifest.size());
    for (std::size_t i = 0; i < back.size(); ++i) {
        EXPECT_EQ(back.rows[i].image, result.manifest.rows[i].image);
        EXPECT_EQ(back.rows[i].label, result.manifest.rows[i].label);
        EXPECT_EQ(back.rows[i].split, result.manifest.rows[i].split);
        EXPECT_EQ(back.rows[i].patient_id, result.manifest.rows[i].patient_id);
        EXPECT_EQ(back.rows[i].metadata, result.manifest.rows[i].metadata);
    }
    EXPECT_EQ(metadata_of(back, row_of(back, "Fdl060.jpg"), "notes"), "excision, \"in situ\" confirmed");
}

TEST(ManifestWrite, ImagesUnderTheManifestsFolderAreRelative) {
    TempDir dir("write");
    Manifest manifest;
    manifest.metadata_columns = {"note"};
    ManifestRow inside;
    inside.image = dir / "images" / "a.jpg";
    inside.label = "nv";
    inside.metadata = {"line\nbreak"};
    ManifestRow outside;
    outside.image = "/elsewhere/b.jpg";
    outside.label = "mel";
    outside.split = "test";
    outside.patient_id = "p, 1";
    outside.metadata = {""};
    manifest.rows = {inside, outside};
    dermlens::dataset::write_manifest_csv(manifest, dir / "m.csv");
    EXPECT_EQ(dermlens::test::read_text_file(dir / "m.csv"),
              "image,label,split,patient_id,note\n"
              "images/a.jpg,nv,,,\"line\nbreak\"\n"
              "/elsewhere/b.jpg,mel,test,\"p, 1\",\n");
    for (const auto & entry : fs::directory_iterator(dir.path())) {
        EXPECT_EQ(entry.path().extension(), entry.is_directory() ? "" : ".csv") << entry.path();  // no temporary left
    }
    expect_error([&] { dermlens::dataset::write_manifest_csv(manifest, dir / "missing" / "m.csv"); },
                 ErrorKind::InvalidInput, {"missing/m.csv", "cannot create"});
}

TEST(LabelMapper, RollsUpToTheNearestAncestorInTheSetOnlyWhenAsked) {
    dermlens::dataset::LabelMapper exact(shipped_kb(), "derm12345-40", "derm7pt-14", false);
    EXPECT_FALSE(exact.map("lmm").label) << "lentigo maligna melanoma is not a derm7pt-14 class of its own";
    EXPECT_THAT(exact.map("lmm").reason, testing::HasSubstr("'lentigo_maligna_melanoma' has no label"));
    dermlens::dataset::LabelMapper rolled(shipped_kb(), "derm12345-40", "derm7pt-14", true);
    EXPECT_EQ(rolled.map("lmm").label, std::optional<std::string>("melanoma"));
    EXPECT_FALSE(rolled.map("cjb").label) << "junctional nevus and melanocytic nevus are no derm7pt-14 classes";
    EXPECT_THAT(rolled.map("cjb").reason, testing::HasSubstr("nor any ancestor"));
    EXPECT_EQ(rolled.map("db").label, std::optional<std::string>("dermal nevus")) << "its own condition, no roll-up";
}

TEST(LabelMapper, CachesAndExplainsWhy) {
    dermlens::dataset::LabelMapper mapper(shipped_kb(), "ham10000", "isic2019", false);
    EXPECT_EQ(mapper.map("mel").label, std::optional<std::string>("MEL"));
    EXPECT_EQ(mapper.map("nv").label, std::optional<std::string>("NV"));
    const auto & unknown = mapper.map("zzz");
    EXPECT_FALSE(unknown.label);
    EXPECT_THAT(unknown.reason, testing::HasSubstr("unknown condition 'zzz'"));
    EXPECT_EQ(&mapper.map("zzz"), &unknown);
}

}  // namespace
