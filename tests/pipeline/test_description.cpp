// The describe-then-decide description: the grammars (run through llama.cpp's grammar
// engine), the token budget they promise, and reading the JSON they produce.
#include "dermlens/error.h"
#include "pipeline/description.h"
#include "support/grammar.h"

#include <gtest/gtest.h>

#include <random>

namespace {

using dermlens::pipeline::DescriptionSchema;
using dermlens::pipeline::description_fields;
using dermlens::pipeline::description_grammar;
using dermlens::pipeline::max_description_tokens;
using dermlens::pipeline::max_value_chars;
using dermlens::pipeline::parse_description;

constexpr DescriptionSchema kSchemas[] = {DescriptionSchema::FiveCriteria, DescriptionSchema::SkinFlow};

bool generates(DescriptionSchema schema, const std::string & output) {
    return dermlens::test::grammar_generates(description_grammar(schema), output);
}

// The description the grammar's fixed layout writes for these values.
std::string layout(DescriptionSchema schema, const std::vector<std::string> & values) {
    const auto & fields = description_fields(schema);
    std::string out = "{";
    for (std::size_t i = 0; i < fields.size(); ++i) {
        out += (i == 0 ? "\"" : ", \"") + fields[i] + "\": \"" + values[i] + "\"";
    }
    return out + "}";
}

std::vector<std::string> all_values(DescriptionSchema schema, const std::string & value) {
    return std::vector<std::string>(description_fields(schema).size(), value);
}

TEST(DescriptionGrammar, ParsesWithLlamaCpp) {
    for (const auto schema : kSchemas) {
        EXPECT_NE(dermlens::test::load_grammar(description_grammar(schema)), nullptr) << schema_name(schema);
    }
}

// The budget holds for the longest output: every value at its maximum, which the grammar
// accepts while one character more in any value is refused.
TEST(DescriptionGrammar, MaxDescriptionTokensCoversTheLongestOutput) {
    for (const auto schema : kSchemas) {
        const std::string longest_value(max_value_chars(schema), 'x');
        const std::string longest = layout(schema, all_values(schema, longest_value));
        EXPECT_TRUE(generates(schema, longest)) << schema_name(schema);
        for (std::size_t i = 0; i < description_fields(schema).size(); ++i) {
            auto values = all_values(schema, longest_value);
            values[i] += 'x';
            EXPECT_FALSE(generates(schema, layout(schema, values))) << schema_name(schema) << " field " << i;
        }
        // Each token writes at least one byte; one more token ends the generation.
        EXPECT_LE(longest.size() + 1, max_description_tokens(schema)) << schema_name(schema);
    }
}

TEST(DescriptionGrammar, RefusesWhatWouldNotParse) {
    for (const auto schema : kSchemas) {
        const auto name = schema_name(schema);
        EXPECT_FALSE(generates(schema, layout(schema, all_values(schema, "a \" quote")))) << name;
        EXPECT_FALSE(generates(schema, layout(schema, all_values(schema, "back\\slash")))) << name;
        EXPECT_FALSE(generates(schema, layout(schema, all_values(schema, "line\nbreak")))) << name;
        EXPECT_FALSE(generates(schema, layout(schema, all_values(schema, "caf\xc3\xa9")))) << name;  // ASCII only
        EXPECT_FALSE(generates(schema, "{ " + layout(schema, all_values(schema, "x")).substr(1))) << name;
        EXPECT_FALSE(generates(schema, "{}")) << name;
    }
    EXPECT_FALSE(generates(DescriptionSchema::FiveCriteria, layout(DescriptionSchema::FiveCriteria,
                                                                   all_values(DescriptionSchema::FiveCriteria, ""))));
    EXPECT_TRUE(generates(DescriptionSchema::SkinFlow, layout(DescriptionSchema::SkinFlow,
                                                              all_values(DescriptionSchema::SkinFlow, ""))));
}

// Whatever the grammar lets through parses: random values over the whole allowed alphabet.
TEST(DescriptionGrammar, EveryOutputParses) {
    std::mt19937 random(7);
    for (const auto schema : kSchemas) {
        const std::size_t min_chars = schema == DescriptionSchema::FiveCriteria ? 1 : 0;
        std::uniform_int_distribution<std::size_t> length(min_chars, max_value_chars(schema));
        std::uniform_int_distribution<int> printable(0x20, 0x7E);
        for (int sample = 0; sample < 100; ++sample) {
            std::vector<std::string> values;
            for (std::size_t i = 0; i < description_fields(schema).size(); ++i) {
                std::string value;
                for (std::size_t n = length(random); value.size() < n;) {
                    const char c = static_cast<char>(printable(random));
                    if (c != '"' && c != '\\') {
                        value += c;
                    }
                }
                values.push_back(value);
            }
            const std::string output = layout(schema, values);
            ASSERT_TRUE(generates(schema, output)) << output;
            const auto parsed = parse_description(output, schema);
            ASSERT_EQ(parsed.fields.size(), values.size());
            for (std::size_t i = 0; i < values.size(); ++i) {
                EXPECT_EQ(parsed.fields[i].first, description_fields(schema)[i]);
                EXPECT_EQ(parsed.fields[i].second, values[i]);
            }
        }
    }
}

TEST(ParseDescription, ReadsTheFieldsInSchemaOrder) {
    const auto parsed = parse_description(
        R"({"texture": "smooth", "location": "back", "lesion_type": "macule", "shape_border": "round, sharp", "colour": "brown"})",
        DescriptionSchema::FiveCriteria);
    EXPECT_EQ(parsed.fields.front(), (std::pair<std::string, std::string>{"location", "back"}));
    EXPECT_EQ(parsed.fields.back(), (std::pair<std::string, std::string>{"texture", "smooth"}));
    EXPECT_EQ(dermlens::pipeline::to_json(parsed).dump(),
              R"({"location":"back","lesion_type":"macule","shape_border":"round, sharp","colour":"brown","texture":"smooth"})");
}

TEST(ParseDescription, RefusesWhatIsNotTheSchema) {
    const auto expect_refused = [](std::string_view json, std::string_view why) {
        try {
            parse_description(json, DescriptionSchema::FiveCriteria);
            ADD_FAILURE() << "accepted: " << json;
        } catch (const dermlens::Error & e) {
            EXPECT_EQ(e.kind(), dermlens::ErrorKind::InvalidInput);
            EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("five-criteria"), std::string::npos) << e.what();
        }
    };
    expect_refused("the lesion is brown", "not valid JSON");
    expect_refused("[1, 2]", "not a JSON object");
    expect_refused(R"({"location": "back"})", "no \"lesion_type\" field");
    expect_refused(R"({"location": "back", "lesion_type": 3, "shape_border": "a", "colour": "b", "texture": "c"})",
                   "\"lesion_type\" is not a string");
    expect_refused(R"({"location": "", "lesion_type": "a", "shape_border": "a", "colour": "b", "texture": "c"})",
                   "\"location\" is empty");
    expect_refused(
        R"({"location": "x", "lesion_type": "a", "shape_border": "a", "colour": "b", "texture": "c", "size": "5 mm"})",
        "unexpected field \"size\"");
}

TEST(DescriptionSchema, NamesRoundTrip) {
    for (const auto schema : kSchemas) {
        EXPECT_EQ(dermlens::pipeline::parse_schema(schema_name(schema)), schema);
    }
    EXPECT_THROW(dermlens::pipeline::parse_schema("twelve-fields"), dermlens::Error);
    EXPECT_EQ(description_fields(DescriptionSchema::SkinFlow).size(), 12U);
}

}  // namespace
