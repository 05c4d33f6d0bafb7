// KnowledgeBase::check on the broken fixtures: each adds exactly one defect to
// mini/kb, and check() reports exactly that one, naming the file and the id or label.
#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "kb_fixtures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

namespace {

namespace fs = std::filesystem;
using dermlens::kb::KnowledgeBase;
using dermlens::kb::Problem;
using dermlens::test::broken_kb_dir;
using dermlens::test::mini_kb_dir;
using testing::HasSubstr;

struct Defect {
    const char * fixture;
    const char * file;  // relative to the fixture folder
    const char * message;
};

void PrintTo(const Defect & defect, std::ostream * out) {
    *out << defect.fixture;
}

}  // namespace

namespace dermlens::kb {

void PrintTo(const Problem & problem, std::ostream * out) {
    *out << problem.to_string();
}

}  // namespace dermlens::kb

namespace {

const Defect kDefects[] = {
    {"cycle", "conditions/50-cycle.json", "conditions melanocytic_lesion -> nevus -> melanocytic_lesion form a cycle "
                                          "of parents"},
    {"duplicate-synonym", "conditions/50-keratoacanthoma.json",
     "condition 'keratoacanthoma': name 'SCC' is already claimed by condition 'squamous_cell_carcinoma' "
     "(as 'SCC', in "},
    {"dangling-edge", "ddx.json", "edges[0] ['melanoma', 'lentigo_simplex']: 'lentigo_simplex' is not a condition"},
    {"dangling-parent", "conditions/50-lentigo.json", "condition 'solar_lentigo': parent 'lentigo' is not a condition"},
    {"second-root", "conditions/50-root.json",
     "condition 'disease' has no parent, but 'skin_condition' is already the root"},
    {"unmapped-label", "labelsets/mini-extra.json",
     "label set 'mini-extra': label 'lentigo' maps to 'solar_lentigo', which is not a condition"},
    {"undescribed", "labelsets/mini-eczema.json",
     "label set 'mini-eczema': label 'eczema' maps to 'eczema', which has no description (the set is described)"},
    {"duplicate-in-set", "labelsets/mini-extra.json",
     "label set 'mini-extra': labels 'ak' and 'solar keratosis' both map to 'actinic_keratosis'"},
    {"british-id", "conditions/50-haemangioma.json",
     "condition 'infantile_haemangioma': the id is not in American spelling (expected 'infantile_hemangioma')"},
    {"duplicate-code", "conditions/50-codes.json",
     "condition 'truncal_melanoma': code ICD10:C43.5 is already recorded on condition 'cutaneous_melanoma'"},
    {"broader-code", "conditions/50-codes.json",
     "condition 'blue_nevus': broader code ICD11:2C30 is condition 'melanoma' exactly, which is not an ancestor of "
     "it"},
    {"shared-label", "labelsets/mini-shared.json",
     "label set 'mini-shared': label 'mm': same_condition_as 'melanoma' is not another label of the set mapping to "
     "'nevus'"},
    {"lonely-description", "conditions/50-scabies.json",
     "condition 'scabies' has a description but 0 DDx neighbours; a described condition needs at least 2"},
};

class KbCheckDefect : public testing::TestWithParam<Defect> {};

TEST_P(KbCheckDefect, ReportsExactlyThatDefect) {
    const Defect & defect = GetParam();
    const auto base = KnowledgeBase::load({mini_kb_dir(), broken_kb_dir(defect.fixture)});
    const std::vector<Problem> problems = base.check();
    ASSERT_EQ(problems.size(), 1u) << testing::PrintToString(problems);
    EXPECT_EQ(problems[0].file, broken_kb_dir(defect.fixture) / defect.file);
    EXPECT_THAT(problems[0].message, HasSubstr(defect.message));
    EXPECT_THAT(problems[0].to_string(), HasSubstr(std::string(defect.fixture) + "/" + defect.file + ": "));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, KbCheckDefect, testing::ValuesIn(kDefects),
                         [](const testing::TestParamInfo<Defect> & defect) {
                             std::string name = defect.param.fixture;
                             std::erase(name, '-');
                             return name;
                         });

TEST(KbCheck, TheMiniKbIsSound) {
    EXPECT_TRUE(dermlens::test::mini_kb().check().empty());
}

TEST(KbCheck, QueriesThroughACycleThrow) {
    const auto base = KnowledgeBase::load({mini_kb_dir(), broken_kb_dir("cycle")});
    EXPECT_THROW(base.ancestors("melanoma"), dermlens::Error);
    EXPECT_EQ(base.descendants("nevus").size(), 6u);  // terminates, each node of the cycle's subtree once
}

// A folder written by the test: `files` maps relative paths to contents.
fs::path write_folder(const std::string & name, const std::vector<std::pair<std::string, std::string>> & files) {
    const fs::path dir = fs::path(testing::TempDir()) / ("dermlens_kb_check_" + name);
    fs::remove_all(dir);
    for (const auto & [path, text] : files) {
        fs::create_directories((dir / path).parent_path());
        std::ofstream(dir / path) << text;
    }
    return dir;
}

std::vector<std::string> problem_texts(const fs::path & overlay) {
    std::vector<std::string> texts;
    for (const auto & problem : KnowledgeBase::load({mini_kb_dir(), overlay}).check()) {
        texts.push_back(problem.to_string());
    }
    return texts;
}

TEST(KbCheck, ReportsAnIdDefinedTwiceInOneFolder) {
    const std::string lentigo =
        R"({"schema": "dermlens.kb.conditions/1", "conditions": [{"id": "lentigo", "name": "lentigo",
                                                                  "parent": "melanocytic_lesion"}]})";
    const auto dir = write_folder("twice", {{"conditions/a.json", lentigo}, {"conditions/b.json", lentigo}});
    EXPECT_THAT(problem_texts(dir), testing::ElementsAre(HasSubstr(
                                        "b.json: condition 'lentigo' is defined twice in one folder (first in '")));
}

TEST(KbCheck, ReportsAnEdgeListedTwiceAndASelfLoop) {
    const auto dir = write_folder("edges", {{"ddx.json", R"({"schema": "dermlens.kb.ddx/1", "edges": [
                                                ["psoriasis", "scabies"], ["scabies", "psoriasis"], ["eczema", "eczema"]
                                            ]})"}});
    EXPECT_THAT(problem_texts(dir),
                testing::ElementsAre(HasSubstr("ddx.json: edges[1] ['scabies', 'psoriasis'] repeats edges[0]"),
                                     HasSubstr("ddx.json: edges[2] ['eczema', 'eczema']: links a condition to "
                                               "itself")));
}

TEST(KbCheck, ReportsALabelSetNamedUnlikeItsFile) {
    const auto dir = write_folder(
        "setname", {{"labelsets/extra.json", R"({"schema": "dermlens.kb.labelset/1", "name": "other-name",
                                                  "labels": [{"label": "ak", "condition": "actinic_keratosis"}]})"}});
    EXPECT_THAT(problem_texts(dir), testing::ElementsAre(HasSubstr(
                                        "extra.json: label set name 'other-name' differs from its file name")));
}

}  // namespace
