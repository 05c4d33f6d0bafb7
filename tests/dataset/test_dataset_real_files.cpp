// The importers on the datasets' real published metadata files (../shared/data/labels/): every row
// imports, with the row and label counts the datasets' papers publish (Groh et al. 2021: 16,577
// Fitzpatrick17k images in 114 conditions; Kawahara et al. 2019: 1,011 Derm7pt cases, each with a
// clinical and a dermoscopic image, 20 diagnoses). Quirky rows are reported, not refused.
#include "dataset/dataset.h"
#include "dermlens/kb/knowledge_base.h"
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
using dermlens::dataset::DatasetFormat;
using dermlens::dataset::Derm7ptView;
using dermlens::dataset::ImportOptions;
using dermlens::dataset::ImportResult;
using dermlens::dataset::import_dataset;
using dermlens::kb::KnowledgeBase;
using testing::HasSubstr;

const fs::path kLabels = fs::path(DERMLENS_SHARED_DIR) / "data" / "labels";

// An empty image folder: the images are not needed to check the labels, and an empty folder is
// searched at once.
const fs::path & no_images() {
    static const dermlens::test::TempDir folder("real_labels");
    return folder.path();
}

const KnowledgeBase & shipped_kb() {
    static const KnowledgeBase base = KnowledgeBase::load({fs::path(DERMLENS_SOURCE_DIR) / "data" / "kb"});
    return base;
}

ImportResult import_real(DatasetFormat format, const fs::path & source, const std::string & label_set = "",
                         Derm7ptView view = Derm7ptView::Both) {
    ImportOptions options;
    options.format = format;
    options.source = source;
    options.label_set = label_set;
    options.view = view;
    options.images = no_images();
    return import_dataset(shipped_kb(), options);
}

std::map<std::string, std::size_t> label_counts(const ImportResult & result) {
    std::map<std::string, std::size_t> counts;
    for (const auto & row : result.manifest.rows) {
        ++counts[row.label];
    }
    return counts;
}

std::size_t occurrences(const std::string & text, const std::string & part) {
    std::size_t count = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
        ++count;
    }
    return count;
}

TEST(RealFitzpatrick17k, ImportsAll114LabelsByDefault) {
    const ImportResult result = import_real(DatasetFormat::Fitzpatrick17k, kLabels / "fitzpatrick17k.csv");
    EXPECT_EQ(result.report.rows_read, 16577u);
    EXPECT_EQ(result.manifest.size(), 16577u);
    EXPECT_EQ(result.report.skipped(), 0u);
    const auto counts = label_counts(result);
    EXPECT_EQ(counts.size(), 114u);
    // Two names of one condition stay two classes, as the dataset has them.
    EXPECT_EQ(counts.at("melanoma"), 261u);
    EXPECT_EQ(counts.at("malignant melanoma"), 111u);
    EXPECT_EQ(counts.at("psoriasis"), 653u);
    EXPECT_EQ(counts.at("erythema annulare centrifigum"), 88u) << "the dataset's own spelling";
}

TEST(RealFitzpatrick17k, PartitionLabelSetsTakeThePartitionColumns) {
    const auto nine = label_counts(import_real(DatasetFormat::Fitzpatrick17k, kLabels / "fitzpatrick17k.csv",
                                               "fitzpatrick17k-9"));
    EXPECT_EQ(nine.size(), 9u);
    EXPECT_EQ(nine.at("inflammatory"), 10886u);
    EXPECT_EQ(nine.at("malignant cutaneous lymphoma"), 182u);
    const auto three = label_counts(import_real(DatasetFormat::Fitzpatrick17k, kLabels / "fitzpatrick17k.csv",
                                                "fitzpatrick17k-3"));
    EXPECT_EQ(three, (std::map<std::string, std::size_t>{{"benign", 2234}, {"malignant", 2263}, {"non-neoplastic", 12080}}));
}

TEST(RealFitzpatrick17k, TheTwentyClassSubsetStillNeedsSkipUnknown) {
    ImportOptions options;
    options.format = DatasetFormat::Fitzpatrick17k;
    options.source = kLabels / "fitzpatrick17k.csv";
    options.label_set = "fitzpatrick17k-20";
    options.skip_unknown = true;
    options.images = no_images();
    const ImportResult result = import_dataset(shipped_kb(), options);
    EXPECT_EQ(label_counts(result).size(), 20u);
    EXPECT_EQ(result.manifest.size() + result.report.skipped(), 16577u);
}

TEST(RealDerm7pt, ImportsEveryCaseAndReportsTheCasesWithOneImage) {
    const ImportResult result = import_real(DatasetFormat::Derm7pt, kLabels / "derm7pt" / "meta.csv");
    EXPECT_EQ(result.report.rows_read, 2 * 1011u - 9u) << "nine cases list their dermoscopic image as both views";
    EXPECT_EQ(result.manifest.size(), 2013u);
    EXPECT_EQ(result.report.duplicate_images, 0u);
    EXPECT_EQ(label_counts(result).size(), 20u);
    std::set<std::string> cases;
    for (const auto & row : result.manifest.rows) {
        cases.insert(row.patient_id);
    }
    EXPECT_EQ(cases.size(), 1011u);
    ASSERT_EQ(result.report.notes.size(), 9u);
    const auto note = std::find_if(result.report.notes.begin(), result.report.notes.end(),
                                   [](const std::string & text) { return text.starts_with("case 565 "); });
    ASSERT_NE(note, result.report.notes.end());
    EXPECT_THAT(*note, HasSubstr("line 566"));
    EXPECT_EQ(occurrences(*note, "line "), 1u) << "the message cites its line once: " << *note;
    EXPECT_THAT(*note, HasSubstr("'Fhl/Fhl018.jpg'"));
    EXPECT_THAT(*note, HasSubstr("Replaced clinic Fhl/Fhl017.jpg with derm Fhl/Fhl018.jpg"));
    // The official split: 413 train, 203 valid and 395 test cases.
    std::map<std::string, std::set<std::string>> split_cases;
    for (const auto & row : result.manifest.rows) {
        split_cases[row.split].insert(row.patient_id);
    }
    EXPECT_EQ(split_cases["train"].size(), 413u);
    EXPECT_EQ(split_cases["val"].size(), 203u);
    EXPECT_EQ(split_cases["test"].size(), 395u);
}

TEST(RealDerm7pt, EachViewAlone) {
    const ImportResult derm = import_real(DatasetFormat::Derm7pt, kLabels / "derm7pt" / "meta.csv", "",
                                          Derm7ptView::Derm);
    EXPECT_EQ(derm.manifest.size(), 1011u);
    const ImportResult clinic = import_real(DatasetFormat::Derm7pt, kLabels / "derm7pt" / "meta.csv", "",
                                            Derm7ptView::Clinic);
    EXPECT_EQ(clinic.manifest.size(), 1011u - 9u);
    EXPECT_THAT(clinic.report.notes.front(), HasSubstr("no clinical image and is left out"));
}

TEST(RealHam10000, ImportsEveryRowWithTheSevenClasses) {
    const ImportResult result = import_real(DatasetFormat::Ham10000, kLabels / "HAM10000_metadata.csv");
    EXPECT_EQ(result.manifest.size(), 10015u);
    EXPECT_EQ(label_counts(result), (std::map<std::string, std::size_t>{{"akiec", 327}, {"bcc", 514}, {"bkl", 1099},
                                                                         {"df", 115}, {"mel", 1113}, {"nv", 6705},
                                                                         {"vasc", 142}}));
}

}  // namespace
