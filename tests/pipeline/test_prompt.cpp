// The exact prompt of every strategy and style, against golden files in
// tests/pipeline/golden/ (one per case, the turns written out by render()).
//
// After an intended change of wording, regenerate them and review the diff:
//   DERMLENS_UPDATE_GOLDEN=1 ./build/bin/test_prompt
#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "pipeline/prompt.h"
#include "support/shipped_kb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using dermlens::pipeline::ClinicalContext;
using dermlens::pipeline::DescriptionSchema;
using dermlens::pipeline::PromptRequest;
using dermlens::pipeline::PromptStyle;
using dermlens::pipeline::PromptTurns;
using dermlens::pipeline::Strategy;
using dermlens::test::shipped_kb;

// Five of the isic9class labels, written as a person would; the knowledge base resolves
// them through that label set.
const std::vector<std::string> kLabels{"melanoma", "nevus", "basal cell carcinoma", "seborrheic keratosis",
                                       "actinic keratosis"};
// What a probe's top-3 could be, for topk and combined.
const std::vector<std::string> kCandidates{"seborrheic keratosis", "melanoma", "nevus"};
const ClinicalContext kContext{54, "female", "back", "itching for two months", 3};

PromptRequest request_for(Strategy strategy, PromptStyle style, bool context_and_not_sure,
                          DescriptionSchema schema = DescriptionSchema::FiveCriteria) {
    const auto parts = dermlens::pipeline::strategy_parts(strategy);
    PromptRequest request;
    request.style = style;
    request.with_descriptions = parts.with_descriptions;
    request.describe_first = parts.describe_first;
    request.schema = schema;
    request.not_sure_option = context_and_not_sure;
    if (context_and_not_sure) {
        request.context = kContext;
    }
    const auto & labels = parts.probe_candidates ? kCandidates : kLabels;
    if (parts.with_descriptions) {
        request.options = dermlens::pipeline::options_with_descriptions(shipped_kb(), labels, "isic9class");
    } else {
        for (const auto & label : labels) {
            request.options.push_back({label, {}});
        }
    }
    return request;
}

// The turns as one reviewable text. The grammar is named, not copied: DescriptionGrammar
// tests check its content.
std::string render(const PromptTurns & turns) {
    std::ostringstream out;
    out << "=== preamble ===\n" << turns.preamble << "\n";
    out << "=== image_question ===\n" << turns.image_question << "\n";
    if (turns.decide_question) {
        out << "=== decide_question ===\n" << *turns.decide_question << "\n";
    }
    if (!turns.description_grammar.empty()) {
        for (const auto schema : {DescriptionSchema::FiveCriteria, DescriptionSchema::SkinFlow}) {
            if (turns.description_grammar == dermlens::pipeline::description_grammar(schema)) {
                out << "=== description_grammar ===\n" << schema_name(schema) << "\n";
            }
        }
    }
    out << "=== answer_lead ===\n" << turns.answer_lead << "\n";
    out << "=== markers ===\n";
    for (const auto & marker : turns.markers) {
        out << marker << (&marker == &turns.markers.back() ? "\n" : " ");
    }
    if (turns.not_sure_index) {
        out << "=== not_sure_index ===\n" << *turns.not_sure_index << "\n";
    }
    return out.str();
}

void expect_golden(const std::string & name, const PromptTurns & turns) {
    const auto path = std::filesystem::path(DERMLENS_SOURCE_DIR) / "tests" / "pipeline" / "golden" / (name + ".txt");
    const std::string actual = render(turns);
    if (const char * update = std::getenv("DERMLENS_UPDATE_GOLDEN"); update != nullptr && std::string(update) == "1") {
        std::filesystem::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary) << actual;
        return;
    }
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << path << " is missing; create it with DERMLENS_UPDATE_GOLDEN=1";
    std::ostringstream expected;
    expected << in.rdbuf();
    EXPECT_EQ(actual, expected.str()) << "differs from " << path << " (DERMLENS_UPDATE_GOLDEN=1 rewrites it)";
}

struct GoldenCase {
    std::string name;
    Strategy strategy;
    PromptStyle style;
    bool context_and_not_sure;
    DescriptionSchema schema = DescriptionSchema::FiveCriteria;
};

std::vector<GoldenCase> golden_cases() {
    std::vector<GoldenCase> cases;
    for (const auto strategy : {Strategy::Direct, Strategy::InContext, Strategy::DescribeThenDecide, Strategy::TopK,
                                Strategy::Combined}) {
        for (const auto style : {PromptStyle::Dermlens, PromptStyle::SkinVl, PromptStyle::SkinR1, PromptStyle::SkinFlow}) {
            for (const bool extras : {false, true}) {
                std::string name = std::string(strategy_name(strategy)) + "-" + std::string(style_name(style));
                cases.push_back({extras ? name + "-context-not-sure" : name, strategy, style, extras});
            }
        }
    }
    cases.push_back({"describe-then-decide-dermlens-skinflow-schema", Strategy::DescribeThenDecide, PromptStyle::Dermlens,
                     false, DescriptionSchema::SkinFlow});
    cases.push_back({"combined-skinflow-skinflow-schema", Strategy::Combined, PromptStyle::SkinFlow, true,
                     DescriptionSchema::SkinFlow});
    return cases;
}

class GoldenPrompt : public testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenPrompt, MatchesTheGoldenFile) {
    const auto & c = GetParam();
    expect_golden(c.name, build_prompt(request_for(c.strategy, c.style, c.context_and_not_sure, c.schema)));
}

INSTANTIATE_TEST_SUITE_P(EveryStrategyAndStyle, GoldenPrompt, testing::ValuesIn(golden_cases()),
                         [](const testing::TestParamInfo<GoldenCase> & param_info) {
                             std::string name = param_info.param.name;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

// The KV cache reuses the preamble across images: it must not depend on the options or context.
TEST(BuildPrompt, PreambleIsSharedAcrossImagesAndStrategies) {
    const auto base = build_prompt(request_for(Strategy::Direct, PromptStyle::Dermlens, false)).preamble;
    EXPECT_FALSE(base.empty());
    for (const auto strategy : {Strategy::InContext, Strategy::DescribeThenDecide, Strategy::TopK, Strategy::Combined}) {
        EXPECT_EQ(build_prompt(request_for(strategy, PromptStyle::Dermlens, true)).preamble, base);
    }
    for (const auto style : {PromptStyle::SkinVl, PromptStyle::SkinR1, PromptStyle::SkinFlow}) {
        EXPECT_EQ(build_prompt(request_for(Strategy::Direct, style, false)).preamble, "");
    }
}

TEST(BuildPrompt, DescribingFirstAsksForTheGrammarsJson) {
    const auto turns = build_prompt(request_for(Strategy::DescribeThenDecide, PromptStyle::Dermlens, false));
    ASSERT_TRUE(turns.decide_question);
    EXPECT_EQ(turns.description_grammar, dermlens::pipeline::description_grammar(DescriptionSchema::FiveCriteria));
    for (const auto & field : dermlens::pipeline::description_fields(DescriptionSchema::FiveCriteria)) {
        EXPECT_NE(turns.image_question.find("\"" + field + "\""), std::string::npos) << field;
    }
    EXPECT_EQ(turns.image_question.find("melanoma"), std::string::npos);  // the options come after the description
}

TEST(BuildPrompt, NotSureIsTheLastOption) {
    const auto turns = build_prompt(request_for(Strategy::Direct, PromptStyle::Dermlens, true));
    ASSERT_EQ(turns.markers.size(), kLabels.size() + 1);
    EXPECT_EQ(turns.not_sure_index, kLabels.size());
    EXPECT_NE(turns.image_question.find("(F) " + dermlens::pipeline::not_sure_label()), std::string::npos);
}

TEST(BuildPrompt, RefusesBadOptions) {
    const auto expect_refused = [](PromptRequest request, std::string_view why) {
        try {
            build_prompt(request);
            ADD_FAILURE() << "accepted: " << why;
        } catch (const dermlens::Error & e) {
            EXPECT_EQ(e.kind(), dermlens::ErrorKind::InvalidArgument);
            EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
        }
    };
    auto request = request_for(Strategy::Direct, PromptStyle::Dermlens, false);
    request.options.resize(1);
    expect_refused(request, "need 2 to 26 options");

    request = request_for(Strategy::Direct, PromptStyle::Dermlens, false);
    request.options.push_back({"Melanoma", {}});
    expect_refused(request, "'Melanoma' appears twice");

    request = request_for(Strategy::Direct, PromptStyle::Dermlens, false);
    request.options.push_back({"Not Sure", {}});
    request.not_sure_option = true;
    expect_refused(request, "'Not Sure' appears twice");

    request = request_for(Strategy::Direct, PromptStyle::Dermlens, false);
    request.options.clear();
    for (int i = 0; i < 26; ++i) {
        request.options.push_back({"condition " + std::to_string(i), {}});
    }
    EXPECT_NO_THROW(build_prompt(request));
    request.not_sure_option = true;
    expect_refused(request, "with the not-sure option, got 27");

    request = request_for(Strategy::Direct, PromptStyle::Dermlens, false);
    request.with_descriptions = true;
    expect_refused(request, "option 'melanoma' has no description");

    request = request_for(Strategy::Direct, PromptStyle::Dermlens, false);
    request.context.age = 130;
    expect_refused(request, "age 130");
}

TEST(OptionsWithDescriptions, DescribesEachLabelFromTheKnowledgeBase) {
    const auto options = dermlens::pipeline::options_with_descriptions(shipped_kb(), {"nevus", "melanoma"}, "isic9class");
    ASSERT_EQ(options.size(), 2U);
    EXPECT_EQ(options[0].label, "nevus");
    const auto & nevus = shipped_kb().condition("melanocytic_nevus").description;
    ASSERT_TRUE(nevus);
    EXPECT_EQ(options[0].description.rfind("Location: " + nevus->location, 0), 0U) << options[0].description;
    EXPECT_NE(options[0].description.find("Texture: " + nevus->texture), std::string::npos);
    // Without a label set the labels resolve as names.
    EXPECT_EQ(dermlens::pipeline::options_with_descriptions(shipped_kb(), {"mole"}, "")[0].description,
              options[0].description);
}

TEST(OptionsWithDescriptions, FallsBackToTheNearestDescribedAncestor) {
    const auto & kb = shipped_kb();
    std::string undescribed;
    for (const auto & id : kb.condition_ids()) {
        const auto path = kb.path_to_root(id);
        if (!kb.condition(id).description && std::any_of(path.begin(), path.end(), [&](const std::string & node) {
                return kb.condition(node).description.has_value();
            })) {
            undescribed = id;
            break;
        }
    }
    if (undescribed.empty()) {
        GTEST_SKIP() << "every condition of the shipped knowledge base is described, or none has a described ancestor";
    }
    const auto path = kb.path_to_root(undescribed);
    const auto ancestor = *std::find_if(path.begin(), path.end(),
                                        [&](const std::string & node) { return kb.condition(node).description.has_value(); });
    EXPECT_EQ(dermlens::pipeline::options_with_descriptions(kb, {kb.condition(undescribed).name}, "")[0].description,
              dermlens::pipeline::options_with_descriptions(kb, {kb.condition(ancestor).name}, "")[0].description);
}

TEST(OptionsWithDescriptions, NamesTheLabelItCannotDescribe) {
    try {
        dermlens::pipeline::options_with_descriptions(shipped_kb(), {"melanoma", "skin_condition"}, "");
        FAIL() << "described the taxonomy root";
    } catch (const dermlens::Error & e) {
        EXPECT_NE(std::string(e.what()).find("label 'skin_condition'"), std::string::npos) << e.what();
    }
    EXPECT_THROW(dermlens::pipeline::options_with_descriptions(shipped_kb(), {"no such disease"}, ""), dermlens::Error);
}

TEST(StrategyAndStyle, NamesRoundTrip) {
    for (const auto strategy : {Strategy::Direct, Strategy::InContext, Strategy::DescribeThenDecide, Strategy::TopK,
                                Strategy::Combined}) {
        EXPECT_EQ(dermlens::pipeline::parse_strategy(strategy_name(strategy)), strategy);
    }
    for (const auto style : {PromptStyle::Dermlens, PromptStyle::SkinVl, PromptStyle::SkinR1, PromptStyle::SkinFlow}) {
        EXPECT_EQ(dermlens::pipeline::parse_style(style_name(style)), style);
    }
    EXPECT_EQ(dermlens::pipeline::strategy_name(Strategy::DescribeThenDecide), "describe-then-decide");
    EXPECT_EQ(dermlens::pipeline::style_name(PromptStyle::SkinR1), "skin-r1");
    EXPECT_THROW(dermlens::pipeline::parse_strategy("top-5"), dermlens::Error);
    EXPECT_THROW(dermlens::pipeline::parse_style("SkinVL"), dermlens::Error);
    const auto combined = dermlens::pipeline::strategy_parts(Strategy::Combined);
    EXPECT_TRUE(combined.with_descriptions && combined.describe_first && combined.probe_candidates);
}

}  // namespace
