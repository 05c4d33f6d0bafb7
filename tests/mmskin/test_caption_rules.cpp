// Age, sex and removal flags from captions (mmskin/caption_rules.h, data/mmskin/caption_rules.json),
// the resolution filter (mmskin/resolution.h) and the dataset statistics (mmskin/statistics.h),
// table-driven on captions written for the tests.
#include "dermlens/error.h"
#include "mmskin/caption_rules.h"
#include "mmskin/resolution.h"
#include "mmskin/statistics.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace mmskin = dermlens::mmskin;

const mmskin::CaptionRules & rules() {
    static const mmskin::CaptionRules loaded =
        mmskin::CaptionRules::load(std::string(DERMLENS_SOURCE_DIR) + "/data/mmskin/caption_rules.json");
    return loaded;
}

struct DemographicCase {
    std::string caption;
    std::optional<std::pair<double, double>> age;  // years, low and high
    std::string sex;
};

TEST(MmskinCaptionRules, AgeAndSex) {
    const std::vector<DemographicCase> cases{
        {"Discoid lupus erythematosus on the cheek of a 45-year-old woman.", {{45, 45}}, "female"},
        {"Infantile haemangioma in a 6-month-old infant boy.", {{0.5, 0.5}}, "male"},
        {"Pretibial myxoedema in a man aged 72 with Graves disease.", {{72, 72}}, "male"},
        {"Herpes zoster along a thoracic dermatome, 30 y/o male.", {{30, 30}}, "male"},
        {"Erythema toxicum neonatorum in a 3-week-old neonate.", {{21 / 365.25, 21 / 365.25}}, ""},
        {"Melasma in a woman in her early 40s.", {{40, 43}}, "female"},
        {"Actinic keratoses on the scalp of a man in his late sixties.", {{67, 69}}, "male"},
        {"Senile purpura on the forearm of an elderly patient.", {{65, 120}}, ""},
        {"Molluscum contagiosum in a child; his mother had similar papules.", {{1, 12}}, "female"},
        {"Scabies in a man and his wife.", std::nullopt, "unknown"},
        {"She presented with a pruritic eruption on the wrists.", std::nullopt, "female"},
        {"He noticed the plaque after her visit.", std::nullopt, "unknown"},
        {"Psoriatic plaque with a 3-year history on the elbow.", std::nullopt, ""},
        {"Pityriasis rosea: herald patch in a 12-year-old girl; 8-year-old brother unaffected.", {{12, 12}}, "unknown"},
        {"Acral melanoma, 58 years of age, female.", {{58, 58}}, "female"},
    };
    for (const DemographicCase & c : cases) {
        SCOPED_TRACE(c.caption);
        const auto age = mmskin::extract_age(c.caption, rules());
        ASSERT_EQ(age.has_value(), c.age.has_value());
        if (age) {
            EXPECT_NEAR(age->low, c.age->first, 1e-12);
            EXPECT_NEAR(age->high, c.age->second, 1e-12);
            EXPECT_FALSE(age->evidence.empty());
        }
        EXPECT_EQ(mmskin::sex_name(mmskin::extract_sex(c.caption, rules())), c.sex);
    }
}

TEST(MmskinCaptionRules, RemovalFlags) {
    const std::vector<std::pair<std::string, std::vector<std::string>>> cases{
        {"Condylomata acuminata on the penile shaft.", {"genitalia: penile"}},
        {"Allergic reaction within a red tattoo on the forearm.", {"identifiable_features: tattoo"}},
        {"Arrows indicate the satellite lesions.", {"image_annotations: arrows"}},
        {"Full-face view of a patient with lupus.", {"full_face: full face"}},
        {"Lichen sclerosus of the vulva; arrowhead marks the erosion.", {"genitalia: vulva", "image_annotations: arrowhead"}},
        {"Granuloma annulare on the dorsum of the hand.", {}},
        {"Analysis of the hand dermatitis.", {}},  // whole words only: "analysis" is not "anal"
    };
    for (const auto & [caption, flags] : cases) {
        EXPECT_EQ(mmskin::removal_flags(caption, rules()), flags) << caption;
    }
}

TEST(MmskinCaptionRules, BadRulesFileIsNamed) {
    const dermlens::test::TempDir dir("caption_rules");
    std::ofstream(dir / "rules.json") << R"({"sex": {}, "age_words": [], "removal_flags": {}})";
    try {
        mmskin::CaptionRules::load(dir / "rules.json");
        FAIL() << "expected an error";
    } catch (const dermlens::Error & e) {
        EXPECT_NE(std::string(e.what()).find("sex.male_nouns"), std::string::npos) << e.what();
    }
    EXPECT_THROW(mmskin::CaptionRules::load(dir / "missing.json"), dermlens::Error);
}

TEST(MmskinResolution, SizeFromHeaderAndFilter) {
    const dermlens::test::TempDir dir("mmskin_resolution");
    cv::imwrite((dir / "small.png").string(), cv::Mat(120, 400, CV_8UC3, cv::Scalar(10, 20, 30)));
    const mmskin::ImageSize size = mmskin::read_image_size(dir / "small.png");
    EXPECT_EQ(size.width, 400U);
    EXPECT_EQ(size.height, 120U);
    EXPECT_EQ(mmskin::resolution_problem(size, 300), "400 x 120 pixels: a side is under 300");
    EXPECT_EQ(mmskin::resolution_problem({300, 300}, 300), "");
    std::ofstream(dir / "broken.jpg") << "not an image";
    EXPECT_THROW(mmskin::read_image_size(dir / "broken.jpg"), dermlens::Error);
}

TEST(MmskinStatistics, CountsLengthsAndHerdansC) {
    const std::vector<mmskin::Record> records{
        {{"figure", "f1"}, {"modality", "clinical"}, {"caption", "Red plaque, red scale."}, {"sex", "male"},
         {"age", {{"low", 40}, {"high", 40}}}},
        {{"figure", "f1"}, {"modality", "clinical"}, {"caption", "Red papules"}, {"sex", "unknown"}},
        {{"figure", "f2"}, {"modality", "dermoscopic"}, {"caption", "Blue-white veil"},
         {"qa", {{{"q", "What colour?"}, {"a", "Blue and white."}}, {{"q", "Any veil?"}, {"a", "Yes."}}}}},
    };
    const auto statistics = mmskin::dataset_statistics(records);
    ASSERT_EQ(statistics.size(), 3U);
    EXPECT_EQ(statistics[0].modality, "clinical");
    EXPECT_EQ(statistics[0].records, 2U);
    EXPECT_EQ(statistics[0].figures, 1U);
    EXPECT_EQ(statistics[0].with_age, 1U);
    EXPECT_EQ(statistics[0].male, 1U);
    EXPECT_EQ(statistics[0].sex_unknown, 1U);
    // "red plaque red scale" + "red papules": N = 6, V = {red, plaque, scale, papules}.
    EXPECT_EQ(statistics[0].captions.words, 6U);
    EXPECT_EQ(statistics[0].captions.vocabulary, 4U);
    EXPECT_DOUBLE_EQ(statistics[0].captions.mean_words, 3.0);
    EXPECT_DOUBLE_EQ(statistics[0].captions.herdan_c, std::log(4.0) / std::log(6.0));
    EXPECT_EQ(statistics[1].modality, "dermoscopic");
    EXPECT_EQ(statistics[1].qa_pairs, 2U);
    EXPECT_DOUBLE_EQ(statistics[1].answers.mean_words, 2.0);  // "blue and white", "yes"
    EXPECT_EQ(statistics[2].modality, "all");
    EXPECT_EQ(statistics[2].records, 3U);
    EXPECT_EQ(statistics[2].figures, 2U);
    EXPECT_TRUE(std::isnan(mmskin::text_statistics({"one"}).herdan_c));
}

}  // namespace
