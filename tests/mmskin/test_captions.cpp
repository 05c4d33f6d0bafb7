// Caption splitting and pairing (mmskin/captions.h), table-driven on captions in the style of
// dermatology textbooks: "(A) … (B) …", ranges, lists, bare "A, …" labels, roman numerals, panel
// references inside the text, captions without labels and counts that do not match the images.
#include "mmskin/captions.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using dermlens::mmskin::pair_panels;
using dermlens::mmskin::split_caption;

struct Expected {
    std::string image;
    std::string panel;
    std::string caption;
};

struct Case {
    std::string name;
    std::string caption;
    std::vector<std::string> images;
    std::vector<Expected> pairs;  // empty: a mismatch is expected
    std::string mismatch;
};

const std::vector<Case> & cases() {
    static const std::vector<Case> all{
        {"lead and two panels, images out of order",
         "Figure 3.2 Psoriasis. (A) Well-demarcated erythematous plaques with silvery scale on the elbow. (B) Nail "
         "pitting and onycholysis.",
         {"fig3_2b.jpg", "fig3_2a.jpg"},
         {{"fig3_2a.jpg", "A", "Psoriasis. Well-demarcated erythematous plaques with silvery scale on the elbow."},
          {"fig3_2b.jpg", "B", "Psoriasis. Nail pitting and onycholysis."}},
         ""},
        {"range with an en dash",
         "Lichen planus. (A\u2013C) Violaceous flat-topped papules on the wrist. (D) Wickham striae on the buccal mucosa.",
         {"a.png", "b.png", "c.png", "d.png"},
         {{"a.png", "A", "Lichen planus. Violaceous flat-topped papules on the wrist."},
          {"b.png", "B", "Lichen planus. Violaceous flat-topped papules on the wrist."},
          {"c.png", "C", "Lichen planus. Violaceous flat-topped papules on the wrist."},
          {"d.png", "D", "Lichen planus. Wickham striae on the buccal mucosa."}},
         ""},
        {"list and semicolons, no lead",
         "(a, b) Dermoscopy of a melanoma showing an atypical network; (c) histopathology with pagetoid spread.",
         {"m1.jpg", "m2.jpg", "m3.jpg"},
         {{"m1.jpg", "A", "Dermoscopy of a melanoma showing an atypical network"},
          {"m2.jpg", "B", "Dermoscopy of a melanoma showing an atypical network"},
          {"m3.jpg", "C", "histopathology with pagetoid spread."}},
         ""},
        {"bare capital labels",
         "Tinea corporis. A, Annular scaly plaque on the trunk. B, KOH preparation showing branching hyphae.",
         {"t-1.jpg", "t-2.jpg"},
         {{"t-1.jpg", "A", "Tinea corporis. Annular scaly plaque on the trunk."},
          {"t-2.jpg", "B", "Tinea corporis. KOH preparation showing branching hyphae."}},
         ""},
        {"bare label list",
         "Scabies. A and B, Burrows in the finger webs. C, Sarcoptes mite under the microscope.",
         {"s1.jpg", "s2.jpg", "s3.jpg"},
         {{"s1.jpg", "A", "Scabies. Burrows in the finger webs."},
          {"s2.jpg", "B", "Scabies. Burrows in the finger webs."},
          {"s3.jpg", "C", "Scabies. Sarcoptes mite under the microscope."}},
         ""},
        {"a panel reference inside the text is not a marker",
         "(A) Umbilicated papules on the trunk. (B) Close-up of the lesion in (A), showing central umbilication.",
         {"x1.jpg", "x2.jpg"},
         {{"x1.jpg", "A", "Umbilicated papules on the trunk."},
          {"x2.jpg", "B", "Close-up of the lesion in (A), showing central umbilication."}},
         ""},
        {"roman numerals after a colon",
         "Erythema multiforme: (i) target lesions on the palm; (ii) haemorrhagic crusts on the lips.",
         {"em_i.jpg", "em_ii.jpg"},
         {{"em_i.jpg", "i", "Erythema multiforme. target lesions on the palm"},
          {"em_ii.jpg", "ii", "Erythema multiforme. haemorrhagic crusts on the lips."}},
         ""},
        {"panels joined by and",
         "Bullous pemphigoid: (A) tense bullae on the thigh and (B) a subepidermal blister on biopsy.",
         {"bp_a.jpg", "bp_b.jpg"},
         {{"bp_a.jpg", "A", "Bullous pemphigoid. tense bullae on the thigh"},
          {"bp_b.jpg", "B", "Bullous pemphigoid. a subepidermal blister on biopsy."}},
         ""},
        {"no labels, one image",
         "Fig. 12-4: Seborrheic keratosis on the back of a 70-year-old man (arrow)",
         {"sk.jpg"},
         {{"sk.jpg", "", "Seborrheic keratosis on the back of a 70-year-old man (arrow)."}},
         ""},
        {"the article A is not a label",
         "A 45-year-old woman with discoid lupus erythematosus on the cheek.",
         {"dle.jpg"},
         {{"dle.jpg", "", "A 45-year-old woman with discoid lupus erythematosus on the cheek."}},
         ""},
        {"a cross-reference that does not start at A",
         "Same patient as in Figure 2 (B), after treatment.",
         {"after.jpg"},
         {{"after.jpg", "", "Same patient as in Figure 2 (B), after treatment."}},
         ""},
        {"no labels, two images", "Acne vulgaris with comedones and inflammatory papules.", {"a1.jpg", "a2.jpg"}, {},
         "no panel labels in the caption but 2 images"},
        {"more labels than images", "Vitiligo. (A) Depigmented macules. (B) Wood's lamp. (C) Histology.",
         {"v1.jpg", "v2.jpg"}, {}, "3 panel labels (A, B, C) but 2 images"},
        {"fewer labels than images", "Rosacea. (A) Centrofacial erythema. (B) Papules and pustules.",
         {"r1.jpg", "r2.jpg", "r3.jpg"}, {}, "2 panel labels (A, B) but 3 images"},
    };
    return all;
}

TEST(MmskinCaptions, SplitsAndPairsTextbookCaptions) {
    for (const Case & c : cases()) {
        SCOPED_TRACE(c.name);
        const auto pairing = pair_panels(split_caption(c.caption), c.images);
        EXPECT_EQ(pairing.mismatch, c.mismatch);
        ASSERT_EQ(pairing.pairs.size(), c.pairs.size());
        for (std::size_t i = 0; i < c.pairs.size(); ++i) {
            EXPECT_EQ(pairing.pairs[i].image, c.pairs[i].image);
            EXPECT_EQ(pairing.pairs[i].panel, c.pairs[i].panel);
            EXPECT_EQ(pairing.pairs[i].caption, c.pairs[i].caption);
        }
    }
}

TEST(MmskinCaptions, LeadIsKeptApart) {
    const auto split = split_caption("Figure 7.1 Atopic dermatitis in infancy: (A) facial eczema; (B) flexural lichenification.");
    EXPECT_EQ(split.lead, "Atopic dermatitis in infancy.");
    ASSERT_EQ(split.panels.size(), 2U);
    EXPECT_EQ(split.panels[0].text, "facial eczema");
    EXPECT_EQ(split.panels[1].labels, std::vector<std::string>{"B"});
}

}  // namespace
