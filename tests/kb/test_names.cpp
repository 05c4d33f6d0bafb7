// Name normalisation: case, punctuation, possessives, British spellings, plurals.
#include "kb/names.h"

#include <gtest/gtest.h>

namespace {

using dermlens::kb::edit_distance;
using dermlens::kb::normalize_name;
using dermlens::kb::singularize;

TEST(NormalizeName, FoldsCaseAndPunctuation) {
    EXPECT_EQ(normalize_name("Basal Cell Carcinoma."), "basal cell carcinoma");
    EXPECT_EQ(normalize_name("  reed-or-spitz   nevus "), "reed or spitz nevus");
    EXPECT_EQ(normalize_name("basal_cell_carcinoma"), "basal cell carcinoma");
    EXPECT_EQ(normalize_name("Lichen planus (oral)"), "lichen planus oral");
    EXPECT_EQ(normalize_name("...!"), "");
}

TEST(NormalizeName, DropsApostrophesAndPossessives) {
    EXPECT_EQ(normalize_name("Bowen's disease"), "bowen disease");
    EXPECT_EQ(normalize_name("Bowen\xE2\x80\x99s disease"), "bowen disease");
    EXPECT_EQ(normalize_name("athlete's foot"), "athlete foot");
    EXPECT_EQ(normalize_name("O'Brien granuloma"), "obrien granuloma");
}

TEST(NormalizeName, KeepsNonAsciiLetters) {
    EXPECT_EQ(normalize_name("Caf\xC3\xA9-au-lait macule"), "caf\xC3\xA9 au lait macule");
}

TEST(NormalizeName, RewritesBritishSpellings) {
    EXPECT_EQ(normalize_name("naevus"), "nevus");
    EXPECT_EQ(normalize_name("Blue naevi"), "blue nevi");
    EXPECT_EQ(normalize_name("haemangioma"), "hemangioma");
    EXPECT_EQ(normalize_name("lymphoedema"), "lymphedema");
    EXPECT_EQ(normalize_name("leukaemia cutis"), "leukemia cutis");
    EXPECT_EQ(normalize_name("seborrhoeic keratosis"), "seborrheic keratosis");
    EXPECT_EQ(normalize_name("colour"), "color");
    EXPECT_EQ(normalize_name("leucocytoclastic vasculitis"), "leukocytoclastic vasculitis");
    EXPECT_EQ(normalize_name("localised scleroderma"), "localized scleroderma");
    EXPECT_EQ(normalize_name("generalisation"), "generalization");
}

TEST(NormalizeName, LeavesOtherIseWordsAlone) {
    EXPECT_EQ(normalize_name("raised lesion"), "raised lesion");
    EXPECT_EQ(normalize_name("excised scar"), "excised scar");
    EXPECT_EQ(normalize_name("arise"), "arise");
}

TEST(Singularize, RemovesEnglishPluralsOfTheLastWord) {
    EXPECT_EQ(singularize("melanomas"), "melanoma");
    EXPECT_EQ(singularize("seborrheic keratoses"), "seborrheic keratosis");
    EXPECT_EQ(singularize("viral warts"), "viral wart");
    EXPECT_EQ(singularize("abscesses"), "abscess");
    EXPECT_EQ(singularize("rashes"), "rash");
    EXPECT_EQ(singularize("allergies"), "allergy");
    EXPECT_EQ(singularize("blue nevi"), "blue nevus");
    EXPECT_EQ(singularize("solar lentigines"), "solar lentigo");
}

TEST(Singularize, LeavesNamesThatOnlyLookPlural) {
    for (const char * name : {"psoriasis", "scabies", "herpes", "mycosis fungoides", "tinea pedis", "lichen planus",
                              "pemphigus", "abscess", "herpes simplex", "bcc"}) {
        EXPECT_EQ(singularize(name), name);
    }
}

TEST(EditDistance, IsLevenshtein) {
    EXPECT_EQ(edit_distance("", ""), 0u);
    EXPECT_EQ(edit_distance("abc", ""), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
    EXPECT_EQ(edit_distance("melanomaa", "melanoma"), 1u);
    EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
}

}  // namespace
