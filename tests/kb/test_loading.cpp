// KnowledgeBase::load: files refused on their own (Error(InvalidInput) naming the
// file and the JSON location) and the override rules of --kb overlays.
#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "kb_fixtures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

namespace {

namespace fs = std::filesystem;
using dermlens::Error;
using dermlens::ErrorKind;
using dermlens::kb::KnowledgeBase;
using dermlens::kb::Malignancy;
using dermlens::test::broken_kb_dir;
using dermlens::test::kb_fixtures_dir;
using dermlens::test::mini_kb_dir;
using testing::ElementsAre;
using testing::HasSubstr;

// The message of the Error(InvalidInput) that loading mini/kb plus `overlay` throws.
std::string load_error(const fs::path & overlay) {
    try {
        KnowledgeBase::load({mini_kb_dir(), overlay});
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidInput);
        return e.what();
    }
    ADD_FAILURE() << "loading " << overlay << " did not throw";
    return "";
}

// An overlay folder holding one conditions file with `conditions` as its array.
fs::path conditions_overlay(const std::string & name, const std::string & conditions) {
    const fs::path dir = fs::path(testing::TempDir()) / ("dermlens_kb_" + name);
    fs::create_directories(dir / "conditions");
    std::ofstream(dir / "conditions" / "50.json")
        << R"({"schema": "dermlens.kb.conditions/1", "conditions": )" << conditions << "}";
    return dir;
}

TEST(KbLoading, RefusesMalformedJsonNamingTheFileAndLine) {
    const std::string message = load_error(broken_kb_dir("malformed-json"));
    EXPECT_THAT(message, HasSubstr("malformed-json/conditions/50-malformed.json"));
    EXPECT_THAT(message, HasSubstr("malformed JSON"));
    EXPECT_THAT(message, HasSubstr("line 5"));
}

TEST(KbLoading, RefusesAWrongSchemaString) {
    const std::string message = load_error(broken_kb_dir("bad-schema"));
    EXPECT_THAT(message, HasSubstr("bad-schema/ddx.json"));
    EXPECT_THAT(message, HasSubstr("schema is 'dermlens.kb.ddx/2', expected 'dermlens.kb.ddx/1'"));
}

TEST(KbLoading, RefusesABadMalignancyValue) {
    const std::string message = load_error(broken_kb_dir("bad-malignancy"));
    EXPECT_THAT(message, HasSubstr("bad-malignancy/conditions/50-malignancy.json"));
    EXPECT_THAT(message, HasSubstr("conditions[0] (id 'blue_nevus'): malignancy is 'harmless'"));
}

TEST(KbLoading, RefusesAMalformedClinicalCode) {
    const std::string message = load_error(broken_kb_dir("bad-code"));
    EXPECT_THAT(message, HasSubstr("bad-code/conditions/50-code.json"));
    EXPECT_THAT(message, HasSubstr("conditions[0] (id 'blue_nevus'): icd11 '2F2' is not an ICD-11 MMS code"));
}

TEST(KbLoading, RefusesAnUnknownCodeMatch) {
    const std::string message = load_error(broken_kb_dir("bad-code-match"));
    EXPECT_THAT(message, HasSubstr("bad-code-match/conditions/50-code.json"));
    EXPECT_THAT(message, HasSubstr("conditions[0] (id 'blue_nevus'): icd11_match is 'partial', expected exact or "
                                   "broader"));
    EXPECT_THAT(load_error(conditions_overlay("lonely-match", R"([{"id": "x", "name": "x", "parent": "skin_condition",
                                                                  "icd10_match": "broader"}])")),
                HasSubstr("conditions[0] (id 'x'): icd10_match is set, but there is no icd10 code"));
}

TEST(KbLoading, RefusesABlankReasonForNoIcd11Code) {
    const std::string message = load_error(broken_kb_dir("blank-absent-reason"));
    EXPECT_THAT(message, HasSubstr("blank-absent-reason/conditions/50-code.json"));
    EXPECT_THAT(message, HasSubstr("conditions[0] (id 'blue_nevus'): field 'icd11_absent' must be a non-empty string"));
    EXPECT_THAT(load_error(conditions_overlay("spaces", R"([{"id": "x", "name": "x", "parent": "skin_condition",
                                                            "icd11_absent": "  "}])")),
                HasSubstr("conditions[0] (id 'x'): icd11_absent is blank: say why the condition has no ICD-11 code"));
}

TEST(KbLoading, RefusesAReasonForNoIcd11CodeNextToACode) {
    const std::string message = load_error(broken_kb_dir("absent-reason-with-code"));
    EXPECT_THAT(message, HasSubstr("absent-reason-with-code/conditions/50-code.json"));
    EXPECT_THAT(message, HasSubstr("conditions[0] (id 'blue_nevus'): icd11_absent is set, but the condition records "
                                   "icd11 '2F20'"));
}

TEST(KbLoading, RefusesAMissingRequiredField) {
    const std::string message = load_error(broken_kb_dir("missing-name"));
    EXPECT_THAT(message, HasSubstr("conditions[0] (id 'unnamed_lesion'): missing required field 'name'"));
}

TEST(KbLoading, RefusesUnknownFieldsAndWrongTypes) {
    EXPECT_THAT(load_error(conditions_overlay("unknown", R"([{"id": "x", "name": "x", "parent": "skin_condition",
                                                             "synonym": ["y"]}])")),
                HasSubstr("conditions[0] (id 'x'): unknown field 'synonym'"));
    EXPECT_THAT(load_error(conditions_overlay("type", R"([{"id": "x", "name": "x", "synonyms": "y"}])")),
                HasSubstr("field 'synonyms' must be an array of strings, found string"));
    EXPECT_THAT(load_error(conditions_overlay("id", R"([{"id": "Basal Cell", "name": "x"}])")),
                HasSubstr("conditions[0] (id 'Basal Cell'): id must be lower-case letters, digits and underscores"));
    EXPECT_THAT(load_error(conditions_overlay("description", R"([{"id": "x", "name": "x",
                                                                 "description": {"location": "arms"}}])")),
                HasSubstr("missing required field 'description.lesion_type'"));
    EXPECT_THAT(load_error(conditions_overlay("array", R"({"id": "x"})")),
                HasSubstr("field 'conditions' must be an array, found object"));
}

TEST(KbLoading, RefusesMissingOrEmptyFolders) {
    EXPECT_THAT(load_error(kb_fixtures_dir() / "no-such-folder"), HasSubstr("no-such-folder': no such folder"));
    EXPECT_THAT(load_error(kb_fixtures_dir() / "broken"),
                HasSubstr("holds no conditions/*.json, ddx.json or labelsets/*.json"));
}

TEST(KbLoading, ReadsTheMiniKb) {
    const auto & base = dermlens::test::mini_kb();
    EXPECT_EQ(base.size(), 31u);
    EXPECT_EQ(base.edges().size(), 11u);
    EXPECT_THAT(base.label_set_names(), ElementsAre("mini-clinical", "mini-dermoscopy"));
    const auto & set = base.label_set("mini-dermoscopy");
    EXPECT_TRUE(set.described);
    ASSERT_EQ(set.labels.size(), 5u);
    EXPECT_EQ(set.labels[0].label, "mel");
    EXPECT_EQ(set.labels[0].condition, "melanoma");
    const auto & melanoma = base.condition("melanoma");
    EXPECT_EQ(melanoma.name, "melanoma");
    EXPECT_EQ(melanoma.parent, "melanocytic_lesion");
    EXPECT_THAT(melanoma.synonyms, ElementsAre("malignant melanoma", "MM"));
    ASSERT_TRUE(melanoma.description.has_value());
    EXPECT_EQ(melanoma.description->texture, "The surface of melanoma.");
    EXPECT_EQ(melanoma.file, mini_kb_dir() / "conditions" / "10-conditions.json");
}

TEST(KbLoading, UnknownIdsAndLabelSetsAreInvalidArguments) {
    const auto & base = dermlens::test::mini_kb();
    EXPECT_THROW(base.condition("no_such_id"), Error);
    try {
        base.label_set("ham10000");
        FAIL();
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
        EXPECT_THAT(e.what(), HasSubstr("unknown label set 'ham10000'; known: mini-clinical, mini-dermoscopy"));
    }
}

class KbOverlay : public testing::Test {
protected:
    const KnowledgeBase base = KnowledgeBase::load({mini_kb_dir(), kb_fixtures_dir() / "overlay"});
};

TEST_F(KbOverlay, IsSound) {
    EXPECT_TRUE(base.check().empty());
}

TEST_F(KbOverlay, ReplacesAConditionAsAWhole) {
    const auto & nevus = base.condition("nevus");
    EXPECT_EQ(nevus.name, "common acquired nevus");
    EXPECT_THAT(nevus.synonyms, ElementsAre("acquired mole"));
    EXPECT_FALSE(nevus.malignancy.has_value());  // the shipped "benign" went with the old entry
    EXPECT_FALSE(base.malignancy("nevus").has_value());
    EXPECT_EQ(nevus.file, kb_fixtures_dir() / "overlay" / "conditions" / "50-overlay.json");
    EXPECT_EQ(base.resolve("acquired moles"), "nevus");
    EXPECT_THROW(base.resolve("mole"), Error);
}

TEST_F(KbOverlay, AddsConditionsAndEdges) {
    EXPECT_EQ(base.size(), 32u);
    EXPECT_EQ(base.parent("dysplastic_nevus"), "nevus");
    EXPECT_THAT(base.children("nevus"), ElementsAre("blue_nevus", "dysplastic_nevus"));
    EXPECT_EQ(base.edges().size(), 12u);  // nevus - melanoma was already known
    EXPECT_THAT(base.neighbours("dysplastic_nevus"), ElementsAre("melanoma"));
}

TEST_F(KbOverlay, ReplacesAndAddsLabelSets) {
    EXPECT_THAT(base.label_set_names(), ElementsAre("mini-clinical", "mini-dermoscopy", "mini-extra"));
    const auto & replaced = base.label_set("mini-dermoscopy");
    EXPECT_FALSE(replaced.described);
    ASSERT_EQ(replaced.labels.size(), 2u);
    EXPECT_EQ(replaced.labels[1].condition, "dysplastic_nevus");
    // "other" was a label of the replaced set too; now only mini-clinical has it.
    EXPECT_EQ(base.resolve("other"), "tinea_pedis");
}

}  // namespace
