// KnowledgeBase::resolve: ids, names, synonyms and dataset labels in any case,
// punctuation, plural or British spelling; unknown names with suggestions.
#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "kb_fixtures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using dermlens::Error;
using dermlens::ErrorKind;
using dermlens::test::mini_kb;
using testing::HasSubstr;

std::string resolve_error(const std::string & name) {
    try {
        mini_kb().resolve(name);
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
        return e.what();
    }
    ADD_FAILURE() << "'" << name << "' resolved";
    return "";
}

TEST(KbResolve, IdsNamesAndSynonyms) {
    EXPECT_EQ(mini_kb().resolve("basal_cell_carcinoma"), "basal_cell_carcinoma");
    EXPECT_EQ(mini_kb().resolve("basal cell carcinoma"), "basal_cell_carcinoma");
    EXPECT_EQ(mini_kb().resolve("BCC"), "basal_cell_carcinoma");
    EXPECT_EQ(mini_kb().resolve("Shingles"), "herpes_zoster");
    EXPECT_EQ(mini_kb().resolve("melanocytic nevus"), "nevus");
}

TEST(KbResolve, IgnoresCasePunctuationAndPossessives) {
    EXPECT_EQ(mini_kb().resolve("Basal Cell Carcinoma."), "basal_cell_carcinoma");
    EXPECT_EQ(mini_kb().resolve("  basal-cell  carcinoma "), "basal_cell_carcinoma");
    EXPECT_EQ(mini_kb().resolve("Athlete\xE2\x80\x99s Foot"), "tinea_pedis");
    EXPECT_EQ(mini_kb().resolve("Hutchinson melanotic freckle"), "lentigo_maligna");
}

TEST(KbResolve, BritishSpellings) {
    EXPECT_EQ(mini_kb().resolve("naevus"), "nevus");
    EXPECT_EQ(mini_kb().resolve("Blue Naevus"), "blue_nevus");
    EXPECT_EQ(mini_kb().resolve("haemangioma"), "hemangioma");
    EXPECT_EQ(mini_kb().resolve("seborrhoeic keratosis"), "seborrheic_keratosis");
    EXPECT_EQ(mini_kb().resolve("seborrheic wart"), "seborrheic_keratosis");  // the file spells it British
}

TEST(KbResolve, Plurals) {
    EXPECT_EQ(mini_kb().resolve("melanomas"), "melanoma");
    EXPECT_EQ(mini_kb().resolve("Basal cell carcinomas"), "basal_cell_carcinoma");
    EXPECT_EQ(mini_kb().resolve("seborrheic keratoses"), "seborrheic_keratosis");
    EXPECT_EQ(mini_kb().resolve("naevi"), "nevus");
    EXPECT_EQ(mini_kb().resolve("blue nevi"), "blue_nevus");
    EXPECT_EQ(mini_kb().resolve("moles"), "nevus");
    EXPECT_EQ(mini_kb().resolve("cold sores"), "herpes_simplex");
}

TEST(KbResolve, DoesNotMangleNamesThatLookPlural) {
    EXPECT_EQ(mini_kb().resolve("psoriasis"), "psoriasis");
    EXPECT_EQ(mini_kb().resolve("Scabies"), "scabies");
    EXPECT_EQ(mini_kb().resolve("herpes"), "herpes_simplex");
    EXPECT_EQ(mini_kb().resolve("herpes zoster"), "herpes_zoster");
    EXPECT_EQ(mini_kb().resolve("mycosis fungoides"), "mycosis_fungoides");
    EXPECT_EQ(mini_kb().resolve("tinea pedis"), "tinea_pedis");
    EXPECT_EQ(mini_kb().resolve("onychomycosis"), "onychomycosis");
}

TEST(KbResolve, DatasetLabels) {
    EXPECT_EQ(mini_kb().resolve("nv"), "nevus");  // a label of one set only
    EXPECT_EQ(mini_kb().resolve("SCC"), "squamous_cell_carcinoma");
    EXPECT_EQ(mini_kb().resolve("other", "mini-dermoscopy"), "seborrheic_keratosis");
    EXPECT_EQ(mini_kb().resolve("Other", "mini-clinical"), "tinea_pedis");
    EXPECT_EQ(mini_kb().resolve("melanoma", "mini-clinical"), "melanoma");  // falls back to the names
}

TEST(KbResolve, ALabelOfSeveralSetsThatDisagreeIsAmbiguous) {
    EXPECT_THAT(resolve_error("other"),
                HasSubstr("condition name 'other' is ambiguous as a label of several label sets (name the label set): "
                          "it may mean seborrheic_keratosis, tinea_pedis"));
}

TEST(KbResolve, UnknownNamesSuggestTheClosest) {
    EXPECT_EQ(resolve_error("melanomaaa"), "unknown condition 'melanomaaa'; did you mean: melanoma, hemangioma, eczema?");
    // A condition's own names come before dataset labels that are as close ("Psoriasis").
    EXPECT_THAT(resolve_error("psorriasys"), HasSubstr("unknown condition 'psorriasys'; did you mean: psoriasis, "));
    EXPECT_THAT(resolve_error("shinngels"), HasSubstr("did you mean: shingles, "));
    EXPECT_THAT(resolve_error("seborheic keratosys"), HasSubstr("did you mean: seborrheic keratosis, "));
}

TEST(KbResolve, NamesOneTypoAwayResolve) {
    EXPECT_EQ(mini_kb().resolve("melanomaa"), "melanoma");                         // a letter added
    EXPECT_EQ(mini_kb().resolve("psoriasys"), "psoriasis");                        // one changed
    EXPECT_EQ(mini_kb().resolve("shingels"), "herpes_zoster");                     // two swapped
    EXPECT_EQ(mini_kb().resolve("seborheic keratosis"), "seborrheic_keratosis");   // one dropped
    // Short names are one typo apart from each other (BCC, SCC): they must be written as known.
    EXPECT_THAT(resolve_error("eczem"), HasSubstr("unknown condition 'eczem'"));
}

TEST(KbResolve, RefusesEmptyNamesAndUnknownLabelSets) {
    EXPECT_THAT(resolve_error(" -- "), HasSubstr("condition name ' -- ' has no letters or digits"));
    EXPECT_THROW(mini_kb().resolve("mel", "ham10000"), Error);
}

}  // namespace
