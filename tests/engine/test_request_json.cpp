// diagnose_request_from_json: every key reaches its field, form-field text is read as the same
// values as JSON numbers and booleans, and every bad option is refused naming its key.
#include "dermlens/request_json.h"

#include "support/expect_error.h"

#include <gtest/gtest.h>

namespace dermlens {
namespace {

using nlohmann::json;
using test::expect_error;

TEST(RequestJson, EveryKeyReachesItsField) {
    const DiagnoseRequest request = diagnose_request_from_json(json{
        {"labels", {"melanoma", "nevus"}}, {"strategy", "describe-then-decide"}, {"style", "dermlens"},
        {"schema", "skinflow"}, {"decide", "score"}, {"candidates", "topk"}, {"top_k", 3}, {"not_sure", true},
        {"abstain_below", 0.25}, {"shuffle_options", true}, {"seed", 7}, {"temperature", 0.5}, {"max_tokens", 32},
        {"age", 54}, {"sex", "female"}, {"site", "back"}, {"history", "itching"}, {"fitzpatrick", 3},
        {"attention", true}, {"attention_layers", "1:2"}, {"attention_reduce", "max"}});
    EXPECT_EQ(request.labels, (std::vector<std::string>{"melanoma", "nevus"}));
    EXPECT_EQ(request.strategy, "describe-then-decide");
    EXPECT_EQ(request.schema, "skinflow");
    EXPECT_EQ(request.top_k, 3u);
    EXPECT_TRUE(request.not_sure);
    EXPECT_DOUBLE_EQ(request.abstain_below, 0.25);
    EXPECT_TRUE(request.shuffle_options);
    EXPECT_EQ(request.seed, 7u);
    EXPECT_FLOAT_EQ(request.temperature, 0.5f);
    EXPECT_EQ(request.max_tokens, 32);
    EXPECT_EQ(request.context.age, 54);
    EXPECT_EQ(request.context.sex, "female");
    EXPECT_EQ(request.context.site, "back");
    EXPECT_EQ(request.context.history, "itching");
    EXPECT_EQ(request.context.fitzpatrick, 3);
    EXPECT_TRUE(request.attention.enabled);
    EXPECT_EQ(request.attention.first_layer, 1);
    EXPECT_EQ(request.attention.last_layer, 2);
    EXPECT_EQ(request.attention.reduce, "max");
    EXPECT_EQ(diagnose_request_keys().size(), 23u);
}

TEST(RequestJson, FormTextReadsAsTheSameValues) {
    const DiagnoseRequest from_text = diagnose_request_from_json(
        json{{"labels", " melanoma , nevus "}, {"top_k", "3"}, {"not_sure", "true"}, {"abstain_below", "0.25"}, {"age", "54"}});
    EXPECT_EQ(from_text.labels, (std::vector<std::string>{"melanoma", "nevus"}));
    EXPECT_EQ(from_text.top_k, 3u);
    EXPECT_TRUE(from_text.not_sure);
    EXPECT_DOUBLE_EQ(from_text.abstain_below, 0.25);
    EXPECT_EQ(from_text.context.age, 54);
    const DiagnoseRequest defaults = diagnose_request_from_json(json::object());
    EXPECT_EQ(defaults.strategy, DiagnoseRequest{}.strategy);
    EXPECT_EQ(defaults.top_k, DiagnoseRequest{}.top_k);
}

TEST(RequestJson, BadOptionsAreRefusedNamingTheirKey) {
    const auto refused = [](const json & options, const std::vector<std::string> & needles) {
        expect_error([&] { diagnose_request_from_json(options); }, ErrorKind::InvalidArgument, needles);
    };
    refused(json::array(), {"options", "object"});
    refused(json{{"colour", "red"}}, {"colour", "unknown option"});
    refused(json{{"top_k", "three"}}, {"top_k", "number", "three"});
    refused(json{{"top_k", 2.5}}, {"top_k", "whole number"});
    refused(json{{"top_k", 0}}, {"top_k", "out of range"});
    refused(json{{"age", 130}}, {"age"});
    refused(json{{"fitzpatrick", 9}}, {"fitzpatrick"});
    refused(json{{"labels", 5}}, {"labels", "array"});
    refused(json{{"labels", "a,,b"}}, {"labels", "empty"});
    refused(json{{"not_sure", "maybe"}}, {"not_sure", "true or false"});
    refused(json{{"strategy", 3}}, {"strategy", "string"});
    refused(json{{"strategy", "guess"}}, {"strategy", "guess"});
    refused(json{{"sex", "unknown-value"}}, {"sex"});
    refused(json{{"attention_layers", "3"}}, {"attention_layers", "FIRST:LAST"});
    refused(json{{"alpha", 0.1}}, {"alpha"});  // without conformal candidates
}

}  // namespace
}  // namespace dermlens
