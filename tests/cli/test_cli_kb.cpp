// `dermlens kb ...` end to end through the built CLI, on the fixture knowledge
// bases of tests/kb/fixtures/ (DERMLENS_DATA_DIR points the shipped KB at mini/).
#include "support/run_process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

namespace fs = std::filesystem;
using dermlens::test::ProcessResult;
using dermlens::test::run_process;
using nlohmann::json;
using testing::HasSubstr;

const fs::path kFixtures = fs::path(DERMLENS_SOURCE_DIR) / "tests" / "kb" / "fixtures";

ProcessResult kb(std::vector<std::string> args) {
    args.insert(args.begin(), {DERMLENS_CLI, "kb"});
    return run_process(args, {{"DERMLENS_DATA_DIR", (kFixtures / "mini").string()}});
}

std::string broken(const std::string & defect) {
    return (kFixtures / "broken" / defect).string();
}

TEST(CliKbCheck, PassesOnASoundKb) {
    const auto result = kb({"check"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "ok: 31 conditions, 11 edges, 2 label sets\n");
    const auto with_overlay = kb({"check", "--kb", (kFixtures / "overlay").string()});
    EXPECT_EQ(with_overlay.exit_code, 0) << with_overlay.err;
    EXPECT_EQ(with_overlay.out, "ok: 32 conditions, 12 edges, 3 label sets\n");
}

TEST(CliKbCheck, NotesTheConditionsWithoutAnIcd11CodeOrAReason) {
    const auto result = kb({"check"});
    EXPECT_EQ(result.exit_code, 0) << "a note, not a problem";
    EXPECT_THAT(result.err, HasSubstr("note: 29 conditions record neither an ICD-11 code nor icd11_absent: "
                                      "actinic_keratosis, atopic_dermatitis, "));
    EXPECT_THAT(result.err, testing::Not(HasSubstr("melanocytic_lesion")));
}

TEST(CliKbCheck, ListsEachProblemAndExitsNonZero) {
    const std::pair<const char *, const char *> defects[] = {
        {"cycle", "cycle/conditions/50-cycle.json: conditions melanocytic_lesion -> nevus -> melanocytic_lesion"},
        {"duplicate-synonym", "duplicate-synonym/conditions/50-keratoacanthoma.json: condition 'keratoacanthoma': "
                              "name 'SCC' is already claimed by condition 'squamous_cell_carcinoma'"},
        {"dangling-edge", "dangling-edge/ddx.json: edges[0] ['melanoma', 'lentigo_simplex']: 'lentigo_simplex' is "
                          "not a condition"},
        {"unmapped-label", "unmapped-label/labelsets/mini-extra.json: label set 'mini-extra': label 'lentigo' maps "
                           "to 'solar_lentigo', which is not a condition"},
        {"undescribed", "undescribed/labelsets/mini-eczema.json: label set 'mini-eczema': label 'eczema' maps to "
                        "'eczema', which has no description"},
    };
    for (const auto & [defect, line] : defects) {
        const auto result = kb({"check", "--kb", broken(defect)});
        EXPECT_EQ(result.exit_code, 3) << defect;
        EXPECT_THAT(result.out, HasSubstr(line)) << defect;
        EXPECT_THAT(result.err, HasSubstr("the knowledge base has 1 problem")) << defect;
    }
}

TEST(CliKbCheck, ListsProblemsOfSeveralOverlays) {
    const auto result = kb({"check", "--kb", broken("cycle"), "--kb", broken("dangling-edge")});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_THAT(result.out, HasSubstr("form a cycle of parents"));
    EXPECT_THAT(result.out, HasSubstr("'lentigo_simplex' is not a condition"));
    EXPECT_THAT(result.err, HasSubstr("the knowledge base has 2 problems"));
}

TEST(CliKbCheck, RefusesMalformedFilesNamingThem) {
    const auto malformed = kb({"check", "--kb", broken("malformed-json")});
    EXPECT_EQ(malformed.exit_code, 3);
    EXPECT_THAT(malformed.err, HasSubstr("malformed-json/conditions/50-malformed.json': malformed JSON"));
    const auto schema = kb({"check", "--kb", broken("bad-schema")});
    EXPECT_EQ(schema.exit_code, 3);
    EXPECT_THAT(schema.err, HasSubstr("bad-schema/ddx.json': schema is 'dermlens.kb.ddx/2'"));
}

TEST(CliKbCheck, Json) {
    const auto sound = kb({"check", "--json"});
    EXPECT_EQ(sound.exit_code, 0);
    json report = json::parse(sound.out);
    EXPECT_EQ(report["uncoded"].size(), 29u) << "conditions with neither an ICD-11 code nor icd11_absent";
    EXPECT_EQ(report["uncoded"][0], "actinic_keratosis");
    report.erase("uncoded");
    EXPECT_EQ(report,
              json({{"ok", true}, {"conditions", 31}, {"edges", 11}, {"label_sets", 2}, {"problems", json::array()}}));
    const auto result = kb({"check", "--json", "--kb", broken("dangling-edge")});
    EXPECT_EQ(result.exit_code, 3);
    report = json::parse(result.out);
    EXPECT_EQ(report["ok"], false);
    ASSERT_EQ(report["problems"].size(), 1u);
    EXPECT_EQ(report["problems"][0]["file"], broken("dangling-edge") + "/ddx.json");
    EXPECT_THAT(report["problems"][0]["message"].get<std::string>(), HasSubstr("'lentigo_simplex' is not a condition"));
}

TEST(CliKb, RefusesAMissingOverlayFolder) {
    const auto result = kb({"check", "--kb", (kFixtures / "no-such-folder").string()});
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_THAT(result.err, HasSubstr("no-such-folder': no such folder"));
}

TEST(CliKbShow, ShowsEverythingAboutACondition) {
    const auto result = kb({"show", "Shingles"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr("herpes zoster (herpes_zoster)\n"));
    EXPECT_THAT(result.out, HasSubstr("synonyms:     shingles\n"));
    EXPECT_THAT(result.out, HasSubstr("path to root: herpes zoster < infectious skin disease < skin condition\n"));
    EXPECT_THAT(result.out, HasSubstr("malignancy:   benign (inherited)\n"));
    EXPECT_THAT(result.out, HasSubstr("ddx:          herpes simplex\n"));
    EXPECT_THAT(result.out, HasSubstr("label sets:   mini-clinical (Shingles)\n"));
}

TEST(CliKbShow, Json) {
    const auto result = kb({"show", "Basal Cell Carcinoma.", "--json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    const json shown = json::parse(result.out);
    EXPECT_EQ(shown["id"], "basal_cell_carcinoma");
    EXPECT_EQ(shown["synonyms"], json({"BCC", "rodent ulcer"}));
    EXPECT_EQ(shown["parent"], "keratinocyte_carcinoma");
    EXPECT_EQ(shown["path_to_root"],
              json({"basal_cell_carcinoma", "keratinocyte_carcinoma", "keratinocytic_lesion", "skin_condition"}));
    EXPECT_EQ(shown["depth"], 3);
    EXPECT_EQ(shown["children"], json({"superficial_basal_cell_carcinoma"}));
    EXPECT_EQ(shown["malignancy"], "malignant");
    EXPECT_EQ(shown["malignancy_inherited"], true);
    EXPECT_EQ(shown["description"]["colour"], "The colours of basal cell carcinoma.");
    EXPECT_EQ(shown["ddx"], json({"melanoma", "seborrheic_keratosis", "squamous_cell_carcinoma"}));
    EXPECT_EQ(shown["label_sets"], json({{{"label_set", "mini-dermoscopy"}, {"label", "bcc"}}}));
}

TEST(CliKbShow, UnknownNamesExitTwoWithSuggestions) {
    const auto result = kb({"show", "melanomaaa"});
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_THAT(result.err, HasSubstr("unknown condition 'melanomaaa'; did you mean: melanoma, "));
    EXPECT_EQ(kb({"show", "melanomaa"}).exit_code, 0) << "one typo away from a long name resolves";
}

TEST(CliKbShow, TakesClinicalCodesAndPrintsThem) {
    const auto text = kb({"show", "2C30"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_THAT(text.out, HasSubstr("melanoma (melanoma)\n"));
    EXPECT_THAT(text.out, HasSubstr("infectious:   no\n"));
    EXPECT_THAT(text.out, HasSubstr("ICD-11:       2C30\n"));
    EXPECT_THAT(text.out, HasSubstr("ICD-10:       C43\n"));
    const auto by_icd10 = kb({"show", "ICD10:C43", "--json"});
    EXPECT_EQ(by_icd10.exit_code, 0) << by_icd10.err;
    const json shown = json::parse(by_icd10.out);
    EXPECT_EQ(shown["id"], "melanoma");
    EXPECT_EQ(shown["icd11"], "2C30");
    EXPECT_EQ(shown["icd10"], "C43");
    const json zoster = json::parse(kb({"show", "herpes zoster", "--json"}).out);
    EXPECT_EQ(zoster["infectious"], true);
    EXPECT_EQ(zoster["icd11"], nullptr);
    EXPECT_EQ(kb({"show", "ICD11:1A00"}).exit_code, 2) << "a code no condition records";
}

TEST(CliKbShow, PrintsWhyAConditionHasNoIcd11Code) {
    const auto text = kb({"show", "melanocytic lesion"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_THAT(text.out, HasSubstr("ICD-11:       - (none: family node of the taxonomy; its members are coded)\n"));
    EXPECT_THAT(text.out, HasSubstr("ICD-10:       -\n"));
    const json shown = json::parse(kb({"show", "melanocytic lesion", "--json"}).out);
    EXPECT_EQ(shown["icd11"], nullptr);
    EXPECT_EQ(shown["icd11_absent"], "family node of the taxonomy; its members are coded");
    EXPECT_EQ(json::parse(kb({"show", "melanoma", "--json"}).out)["icd11_absent"], nullptr);
}

TEST(CliKbShow, MarksBroaderCodesAndNamesTheConditionsSharingOne) {
    const std::string codes = (kFixtures / "codes").string();
    const auto text = kb({"show", "sebaceous carcinoma", "--kb", codes});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_THAT(text.out, HasSubstr("ICD-11:       2C33 (broader: a category that contains it)\n"));
    const json shown = json::parse(kb({"show", "amelanotic melanoma", "--kb", codes, "--json"}).out);
    EXPECT_EQ(shown["icd11"], "2C30");
    EXPECT_EQ(shown["icd11_match"], "broader");
    EXPECT_EQ(shown["icd10_match"], nullptr);
    EXPECT_EQ(json::parse(kb({"show", "2C30", "--kb", codes, "--json"}).out)["id"], "melanoma");
    const auto shared = kb({"show", "2C33", "--kb", codes});
    EXPECT_EQ(shared.exit_code, 2);
    EXPECT_THAT(shared.err, HasSubstr("sebaceous_carcinoma, trichilemmal_carcinoma"));
}

TEST(CliKbStats, CountsPerFamilyInTextAndJson) {
    const auto text = kb({"stats"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_THAT(text.out, HasSubstr("family"));
    EXPECT_THAT(text.out, testing::ContainsRegex("broader +absent +icd10"));
    EXPECT_THAT(text.out, testing::ContainsRegex("melanocytic_lesion +7 +6 +1 +0 +1 +1 +0 "))
        << "icd11 1, broader 0, absent 1 (melanocytic_lesion's reason), icd10 1, broader 0";
    EXPECT_THAT(text.out, testing::ContainsRegex("total +31 "));
    const auto result = kb({"stats", "--json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    const json stats = json::parse(result.out);
    EXPECT_EQ(stats["total"]["conditions"], 31);
    EXPECT_EQ(stats["total"]["ddx_edges"], 11);
    EXPECT_EQ(stats["total"]["icd11_absent"], 1);
    EXPECT_EQ(stats["families"][0]["family"], "cutaneous_lymphoma");
    EXPECT_EQ(stats["label_sets"][0]["label_set"], "mini-clinical");
}

TEST(CliKbShow, ResolvesThroughALabelSet) {
    const auto result = kb({"show", "other", "--labelset", "mini-clinical", "--json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(json::parse(result.out)["id"], "tinea_pedis");
    EXPECT_EQ(kb({"show", "other"}).exit_code, 2);  // a label of two sets that disagree
}

TEST(CliKbLabelSet, ListsTheSets) {
    const auto result = kb({"labelset", "--json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    const json sets = json::parse(result.out);
    ASSERT_EQ(sets.size(), 2u);
    EXPECT_EQ(sets[1], json({{"name", "mini-dermoscopy"}, {"title", "Dermoscopy classes (4 + other)"}, {"labels", 5},
                             {"described", true}}));
}

TEST(CliKbLabelSet, ShowsTheLabelsInOrder) {
    const auto text = kb({"labelset", "mini-dermoscopy"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_THAT(text.out, HasSubstr("  mel -> melanoma (melanoma)\n  nv -> melanocytic nevus (nevus)\n"));
    const json set = json::parse(kb({"labelset", "mini-dermoscopy", "--json"}).out);
    EXPECT_EQ(set["described"], true);
    ASSERT_EQ(set["labels"].size(), 5u);
    EXPECT_EQ(set["labels"][4], json({{"label", "other"}, {"condition", "seborrheic_keratosis"},
                                      {"name", "seborrheic keratosis"}}));
    const auto unknown = kb({"labelset", "ham10000"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_THAT(unknown.err, HasSubstr("unknown label set 'ham10000'; known: mini-clinical, mini-dermoscopy"));
}

TEST(CliKbRelation, TextAndJson) {
    const auto text = kb({"relation", "shingles", "herpes zoster"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_THAT(text.out, HasSubstr("relation:  synonym\npredicted: 'shingles' = herpes zoster (herpes_zoster)\n"));
    const auto result = kb({"relation", "melanoma", "superficial spreading melanoma", "--json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(json::parse(result.out),
              json::parse(R"({"predicted": {"text": "melanoma", "id": "melanoma", "name": "melanoma"},
                              "truth": {"text": "superficial spreading melanoma",
                                        "id": "superficial_spreading_melanoma",
                                        "name": "superficial spreading melanoma"},
                              "relation": "parent", "levels": 1})"));
    EXPECT_EQ(kb({"relation", "melanoma", "melanomaaa"}).exit_code, 2);
}

TEST(CliKbDdx, ListsTheNeighbours) {
    const auto text = kb({"ddx", "MM"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_EQ(text.out, "melanoma (melanoma): 3 DDx neighbours\n  basal cell carcinoma (basal_cell_carcinoma)\n"
                        "  melanocytic nevus (nevus)\n  seborrheic keratosis (seborrheic_keratosis)\n");
    const json result = json::parse(kb({"ddx", "actinic keratosis", "--json"}).out);
    EXPECT_EQ(result, json::parse(R"({"id": "actinic_keratosis", "name": "actinic keratosis",
        "neighbours": [{"id": "squamous_cell_carcinoma", "name": "squamous cell carcinoma"}]})"));
}

}  // namespace
