// SkinFlow's open-vocabulary top-6 diagnosis: the question, the grammar (run through
// llama.cpp's grammar engine) and the token budget it promises, and reading the ranked
// disease names back from well-formed and malformed replies.
#include "pipeline/answer_parse.h"
#include "pipeline/open_topk.h"
#include "support/grammar.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

using dermlens::pipeline::kOpenTopK;
using dermlens::pipeline::kOpenTopKMaxTokens;
using dermlens::pipeline::open_topk_grammar;
using dermlens::pipeline::parse_skinflow_diseases;

// The grammar's limits (data/grammars/skinflow-topk-open.gbnf).
constexpr std::size_t kThinkChars = 400;
constexpr std::size_t kNameChars = 60;
constexpr std::size_t kReasonChars = 100;
constexpr std::size_t kFields = 3;
constexpr std::size_t kFieldChars = 30;

struct Entry {
    std::string disease;
    std::string probability = "0.80";
    std::vector<std::string> fields{"color", "shape"};
    std::string reason = "A one-sentence reason";
};

// The reply the grammar's fixed layout writes.
std::string layout(const std::string & think, const std::vector<Entry> & entries) {
    std::string out = "<think>" + think + "</think>\n<answer>{\"top6_diseases\": [";
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const Entry & e = entries[i];
        std::string fields;
        for (std::size_t f = 0; f < e.fields.size(); ++f) {
            fields += (f == 0 ? "\"" : ", \"") + e.fields[f] + "\"";
        }
        out += (i == 0 ? "" : ", ") + std::string("{\"disease\": \"") + e.disease + "\", \"probability\": " +
               e.probability + ", \"key_matching_fields\": [" + fields + "], \"brief_reason\": \"" + e.reason + "\"}";
    }
    return out + "]}</answer>";
}

bool generates(const std::string & output) {
    return dermlens::test::grammar_generates(open_topk_grammar(), output);
}

Entry longest_entry() {
    return {std::string(kNameChars, 'n'), "0.99", std::vector<std::string>(kFields, std::string(kFieldChars, 'f')),
            std::string(kReasonChars, 'r')};
}

std::vector<std::string> names_of(const std::vector<Entry> & entries) {
    std::vector<std::string> names;
    for (const Entry & entry : entries) {
        names.push_back(entry.disease);
    }
    return names;
}

TEST(OpenTopKQuestion, AsksForTheSixDiseasesTheGrammarLists) {
    const std::string question = dermlens::pipeline::open_topk_question();
    EXPECT_NE(question.find("(Top-6)"), std::string::npos) << question;
    EXPECT_NE(question.find("\"top6_diseases\""), std::string::npos) << question;
    EXPECT_NE(question.find("most likely"), std::string::npos) << question;
    EXPECT_EQ(question.find("candidates"), std::string::npos) << "the open question lists no options";
    EXPECT_EQ(kOpenTopK, 6u);
}

TEST(OpenTopKGrammar, ParsesWithLlamaCpp) {
    EXPECT_NE(dermlens::test::load_grammar(open_topk_grammar()), nullptr);
}

// The budget holds for the longest output: every part at its maximum, which the grammar
// accepts while one character, field or entry more anywhere is refused.
TEST(OpenTopKGrammar, MaxTokensCoverTheLongestOutput) {
    const std::string think(kThinkChars, 't');
    const std::vector<Entry> entries(kOpenTopK, longest_entry());
    const std::string longest = layout(think, entries);
    EXPECT_TRUE(generates(longest));
    EXPECT_FALSE(generates(layout(think + 't', entries)));
    std::vector<Entry> more = entries;
    more.push_back(longest_entry());
    EXPECT_FALSE(generates(layout(think, more)));
    const std::vector<std::function<void(Entry &)>> one_more{
        [](Entry & e) { e.disease += 'n'; },        [](Entry & e) { e.reason += 'r'; },
        [](Entry & e) { e.fields.front() += 'f'; }, [](Entry & e) { e.fields.push_back("size"); },
        [](Entry & e) { e.probability += '9'; }};
    for (std::size_t i = 0; i < one_more.size(); ++i) {
        std::vector<Entry> longer = entries;
        one_more[i](longer[2]);
        EXPECT_FALSE(generates(layout(think, longer))) << "part " << i;
    }
    // Each token writes at least one byte; one more token ends the generation.
    EXPECT_EQ(longest.size(), 2522u);  // as open_topk.h and the grammar's comment say
    EXPECT_LE(longest.size() + 1, kOpenTopKMaxTokens);
}

TEST(OpenTopKGrammar, RefusesWhatWouldNotParse) {
    const Entry ok{"psoriasis"};
    EXPECT_TRUE(generates(layout("", {ok})));
    EXPECT_FALSE(generates(layout("", {})));                          // no disease
    EXPECT_FALSE(generates(layout("", {{""}})));                      // an empty name
    EXPECT_FALSE(generates(layout("", {{"a \" quote"}})));
    EXPECT_FALSE(generates(layout("", {{"back\\slash"}})));
    EXPECT_FALSE(generates(layout("", {{"caf\xc3\xa9"}})));           // ASCII only
    EXPECT_FALSE(generates(layout("see <answer> below", {ok})));      // the thinking cannot open an answer
    EXPECT_FALSE(generates(layout("", {{"psoriasis", "1.5"}})));      // a probability above 1
    EXPECT_FALSE(generates(layout("", {ok}).substr(std::string("<think></think>\n").size())));  // no thinking tags
    EXPECT_TRUE(generates(layout("two\nlines", {ok})));
}

// Whatever the grammar lets through parses to the names as written: random outputs over the
// whole allowed alphabet.
TEST(OpenTopKGrammar, EveryOutputParsesToItsNames) {
    std::mt19937 random(11);
    std::uniform_int_distribution<std::size_t> count(1, kOpenTopK), length(1, kNameChars);
    std::uniform_int_distribution<int> printable(0x20, 0x7E);
    for (int sample = 0; sample < 100; ++sample) {
        std::vector<Entry> entries(count(random));
        for (Entry & entry : entries) {
            for (std::size_t n = length(random); entry.disease.size() < n;) {
                const char c = static_cast<char>(printable(random));
                if (c != '"' && c != '\\') {
                    entry.disease += c;
                }
            }
        }
        const std::string output = layout("thinking", entries);
        ASSERT_TRUE(generates(output)) << output;
        const auto parsed = parse_skinflow_diseases(output);
        EXPECT_EQ(parsed.problem, "") << output;
        EXPECT_EQ(parsed.names, names_of(entries)) << output;
    }
}

TEST(ParseSkinFlowDiseases, ReadsTheNamesMostLikelyFirst) {
    const auto parsed = parse_skinflow_diseases(layout("brown, asymmetric", {{"Melanoma"}, {"nevus"}, {"lentigo"}}));
    EXPECT_EQ(parsed.problem, "");
    EXPECT_EQ(parsed.names, (std::vector<std::string>{"Melanoma", "nevus", "lentigo"}));
}

// The paper's own example layout: indented, with // comments and without a closing tag (the
// model stopped first); an entry without a name keeps the ranks of those after it.
TEST(ParseSkinFlowDiseases, ReadsThePapersLayoutAndKeepsRanks) {
    const auto parsed = parse_skinflow_diseases(R"(<think>x</think>
<answer>{ "top6_diseases": [
  { "disease": "psoriasis", // the first
    "probability": 0.6 },
  { "probability": 0.3 },
  { "disease": "eczema" }
]
})");
    EXPECT_EQ(parsed.problem, "");
    EXPECT_EQ(parsed.names, (std::vector<std::string>{"psoriasis", "", "eczema"}));
}

TEST(ParseSkinFlowDiseases, AMalformedReplyListsNothingAndSaysWhy) {
    const auto problem = [](const std::string & reply) {
        const auto parsed = parse_skinflow_diseases(reply);
        EXPECT_TRUE(parsed.names.empty()) << reply;
        return parsed.problem;
    };
    EXPECT_EQ(problem(""), "no <answer> tag");
    EXPECT_EQ(problem("psoriasis, eczema"), "no <answer> tag");
    EXPECT_EQ(problem("<answer>psoriasis</answer>"), "the <answer> is not a JSON object");
    EXPECT_EQ(problem(R"(<answer>{"top6_diseases": [{"disease": "psori)"), "the <answer> is not a JSON object");
    EXPECT_EQ(problem("<answer>{\"top6_diseases\": [{\"disease\": \"\xff\xfe\"}]}</answer>"),
              "the <answer> is not a JSON object");  // not UTF-8
    EXPECT_EQ(problem(R"(<answer>["psoriasis"]</answer>)"), "the <answer> is not a JSON object");
    EXPECT_EQ(problem(R"(<answer>{"diagnosis": "psoriasis"}</answer>)"), "the <answer> JSON has no top-K list");
    EXPECT_EQ(problem(R"(<answer>{"top6_diseases": []}</answer>)"), "the <answer> JSON has no top-K list");
}

}  // namespace
