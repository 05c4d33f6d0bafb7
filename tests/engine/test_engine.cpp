// The Engine in process (dermlens/engine.h) on a generated tiny Gemma 3 model: the same
// report as `dermlens diagnose --json`, one encoding for many requests, requests refused with
// the field they got wrong before anything runs, cancellation within one decoded token with
// the Engine serving the next request as if nothing had happened, and calls from two threads.
#include "engine/engine_fixture.h"

#include "dermlens/engine.h"
#include "engine/internals.h"
#include "support/run_process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <iterator>
#include <thread>

namespace {

using namespace dermlens;
using dermlens::test::TinyModel;
using json = nlohmann::ordered_json;
using ::testing::HasSubstr;

EngineParams tiny_params() {
    EngineParams params;
    params.model = TinyModel::shared().files.model;
    params.mmproj = TinyModel::shared().files.mmproj;
    params.threads = 1;
    return params;
}

DiagnoseRequest isic_request(const std::string & strategy = "direct") {
    DiagnoseRequest request;
    request.label_set = "isic9class";
    request.strategy = strategy;
    return request;
}

// The report without what differs between runs (docs/diagnose-json.md: timings, the encoding's origin).
json stable(json report) {
    report.erase("timings");
    report["image"].erase("encoding");
    return report;
}

Error thrown_by(const std::function<void()> & call) {
    try {
        call();
    } catch (const Error & e) {
        return e;
    }
    ADD_FAILURE() << "no dermlens::Error thrown";
    return Error(ErrorKind::Runtime, "");
}

class EngineTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { engine_ = std::make_unique<Engine>(tiny_params()); }
    static void TearDownTestSuite() { engine_.reset(); }
    static std::unique_ptr<Engine> engine_;
};

std::unique_ptr<Engine> EngineTest::engine_;

TEST_F(EngineTest, GivesTheReportOfDiagnoseJson) {
    const Image image = Image::from_file(dermlens::test::shared_lesion());
    const json ours = to_json(engine_->diagnose(image, isic_request("describe-then-decide")));

    const auto & files = TinyModel::shared().files;
    const dermlens::test::ProcessResult cli = dermlens::test::run_process(
        {DERMLENS_CLI, "diagnose", "--model", files.model.string(), "--mmproj", files.mmproj.string(), "--threads", "1",
         "--label-set", "isic9class", "--strategy", "describe-then-decide", "--quality", "off", "--json",
         dermlens::test::shared_lesion().string()});
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    const json theirs = json::parse(cli.out).at(0);
    EXPECT_EQ(stable(ours), stable(theirs));
    EXPECT_FALSE(ours.at("description").is_null());
}

TEST_F(EngineTest, OneEncodingServesManyRequests) {
    const EncodedImage encoded = engine_->encode(Image::from_file(dermlens::test::shared_lesion()));
    const std::size_t runs = engine_->info().encoder_runs;
    const Diagnosis direct = engine_->diagnose(encoded, isic_request("direct"));
    const Diagnosis in_context = engine_->diagnose(encoded, isic_request("in-context"));
    EXPECT_EQ(engine_->info().encoder_runs, runs);
    EXPECT_EQ(direct.candidates.size(), 9u);
    EXPECT_EQ(in_context.candidates.size(), 9u);
    double total = 0;
    for (const auto & candidate : direct.candidates) {
        total += candidate.fused;
    }
    EXPECT_NEAR(total, 1.0, 1e-9);
    EXPECT_FALSE(encoded.encoder_mean().empty());
    EXPECT_GT(encoded.image_tokens(), 0);
    EXPECT_EQ(to_json(engine_->diagnose(encoded, isic_request("direct"))).at("differential"),
              to_json(direct).at("differential"));  // deterministic
}

TEST_F(EngineTest, ImagesFromBytesAndPixelsAreTheSameImage) {
    std::ifstream file(dermlens::test::shared_lesion(), std::ios::binary);
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(file), {}};
    const Image from_file = Image::from_file(dermlens::test::shared_lesion());
    const Image from_bytes = Image::from_bytes(bytes, "upload.jpg");
    EXPECT_EQ(from_file.sha256(), from_bytes.sha256());
    const Image from_rgb = Image::from_rgb(from_file.width(), from_file.height(), from_file.rgb(), "pixels");
    const Diagnosis a = engine_->diagnose(from_bytes, isic_request());
    const Diagnosis b = engine_->diagnose(from_rgb, isic_request());
    EXPECT_EQ(to_json(a).at("candidates"), to_json(b).at("candidates"));
    EXPECT_EQ(a.image.name, "upload.jpg");
}

TEST_F(EngineTest, BadImagesNameTheImage) {
    const std::vector<std::uint8_t> garbage{'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'};
    const Error corrupt = thrown_by([&] { engine_->diagnose(Image::from_bytes(garbage, "upload.bin"), isic_request()); });
    EXPECT_EQ(corrupt.kind(), ErrorKind::InvalidInput);
    EXPECT_THAT(corrupt.what(), HasSubstr("upload.bin"));
    const Error missing = thrown_by([] { Image::from_file("/nonexistent/lesion.jpg"); });
    EXPECT_EQ(missing.kind(), ErrorKind::InvalidInput);
    EXPECT_THAT(missing.what(), HasSubstr("/nonexistent/lesion.jpg"));
    const std::vector<std::uint8_t> short_rgb(10);
    EXPECT_EQ(thrown_by([&] { Image::from_rgb(4, 4, short_rgb, "short"); }).kind(), ErrorKind::InvalidInput);
}

TEST_F(EngineTest, RequestsAreRefusedNamingTheField) {
    const auto field_of = [&](const std::function<void(DiagnoseRequest &)> & edit) {
        DiagnoseRequest request = isic_request();
        edit(request);
        const Error error = thrown_by([&] { engine_->check(request); });
        EXPECT_EQ(error.kind(), ErrorKind::InvalidArgument) << error.what();
        return error.field();
    };
    EXPECT_EQ(field_of([](auto & r) { r.strategy = "guess"; }), "strategy");
    EXPECT_EQ(field_of([](auto & r) { r.decide = "vote"; }), "decide");
    EXPECT_EQ(field_of([](auto & r) { r.alpha = 0.1; }), "alpha");
    EXPECT_EQ(field_of([](auto & r) { r.strategy = "topk"; }), "probe");
    EXPECT_EQ(field_of([](auto & r) { r.attention.enabled = true; }), "attention");
    EXPECT_EQ(field_of([](auto & r) {
                  r.attention.enabled = true;
                  r.attention.reduce = "median";
              }),
              "attention.reduce");
    EXPECT_EQ(field_of([](auto & r) { r.label_set.clear(); }), "labels");
    DiagnoseRequest unknown = isic_request();
    unknown.label_set.clear();
    unknown.labels = {"melanoma", "moonburn"};
    const Error label = thrown_by([&] { engine_->check(unknown); });
    EXPECT_THAT(label.what(), HasSubstr("moonburn"));
}

TEST(EngineParamsTest, NameTheFieldBeforeLoadingAnything) {
    EngineParams params = tiny_params();
    params.context_size = 0;
    EXPECT_EQ(thrown_by([&] { Engine engine(params); }).field(), "context_size");
    params = tiny_params();
    params.capture_attention = true;
    params.flash_attention = FlashAttention::On;
    EXPECT_EQ(thrown_by([&] { Engine engine(params); }).field(), "flash_attention");
    params = tiny_params();
    params.mmproj.clear();  // a text-only Engine reads no images: nothing that needs them
    params.embedding_cache = "cache.sqlite";
    EXPECT_EQ(thrown_by([&] { Engine engine(params); }).field(), "embedding_cache");
    params = tiny_params();
    params.model = "/nonexistent/model.gguf";
    EXPECT_EQ(thrown_by([&] { Engine engine(params); }).kind(), ErrorKind::InvalidModel);
}

// A should-stop callback raised during the description stops the call within one decoded
// token; the Engine then answers the next request exactly as it answered before.
TEST_F(EngineTest, CancellingADescriptionStopsWithinOneTokenAndTheEngineGoesOn) {
    const EncodedImage encoded = engine_->encode(Image::from_file(dermlens::test::shared_lesion()));
    const json before = stable(to_json(engine_->diagnose(encoded, isic_request("describe-then-decide"))));

    constexpr int kStopAt = 3;
    std::atomic<bool> stop{false};
    int last_step = -1;
    int steps_after_stop = 0;
    DiagnoseRequest request = isic_request("describe-then-decide");
    request.progress = [&](std::string_view stage, int step, int) {
        if (stage != "generate") {
            return;
        }
        if (stop) {
            ++steps_after_stop;
        }
        last_step = step;
        if (step == kStopAt) {
            stop = true;
        }
    };
    request.should_stop = [&] { return stop.load(); };
    const Error cancelled = thrown_by([&] { engine_->diagnose(encoded, request); });
    EXPECT_EQ(cancelled.kind(), ErrorKind::Cancelled) << cancelled.what();
    EXPECT_EQ(last_step, kStopAt);
    EXPECT_EQ(steps_after_stop, 0);  // the check right after the stop request ended it
    EXPECT_THAT(cancelled.what(), HasSubstr("cancelled after 3 generated tokens"));

    EXPECT_EQ(stable(to_json(engine_->diagnose(encoded, isic_request("describe-then-decide")))), before);
}

TEST_F(EngineTest, CancellingBeforeEncodingRunsNoEncoder) {
    const std::size_t runs = engine_->info().encoder_runs;
    const std::vector<std::uint8_t> pixels(32 * 32 * 3, 128);
    const Error cancelled =
        thrown_by([&] { engine_->encode(Image::from_rgb(32, 32, pixels, "grey"), [] { return true; }); });
    EXPECT_EQ(cancelled.kind(), ErrorKind::Cancelled);
    EXPECT_EQ(engine_->info().encoder_runs, runs);
}

// With one session (the default), two threads diagnosing at once take it in turn and get what one gets alone.
TEST_F(EngineTest, CallsFromTwoThreadsGiveTheSingleThreadedReports) {
    const EncodedImage encoded = engine_->encode(Image::from_file(dermlens::test::shared_lesion()));
    const json alone = stable(to_json(engine_->diagnose(encoded, isic_request("in-context"))));
    json first;
    json second;
    std::thread a([&] { first = stable(to_json(engine_->diagnose(encoded, isic_request("in-context")))); });
    std::thread b([&] { second = stable(to_json(engine_->diagnose(encoded, isic_request("in-context")))); });
    a.join();
    b.join();
    EXPECT_EQ(first, alone);
    EXPECT_EQ(second, alone);
}

GenerateRequest question(const std::string & text) {
    GenerateRequest request;
    request.messages = {{"user", text}};
    request.max_tokens = 12;
    return request;
}

// A free question about an image is the question the model answers through Vlm::generate,
// which tests/model/test_vlm_parity.cpp holds to llama-mtmd-cli.
TEST_F(EngineTest, GeneratesTheAnswerOfTheModelToAQuestionAboutAnImage) {
    const Image image = Image::from_file(dermlens::test::shared_lesion());
    GenerateRequest request = question("What colours does the lesion show?");
    request.image = image;
    const GeneratedText ours = engine_->generate(request);

    const EncodedImage encoded = engine_->encode(image);
    model::Vlm & vlm = EngineInternals::vlm(*engine_);
    const model::Generation direct = vlm.generate(EngineInternals::encoding(encoded), model::ChatPrompt{
        {{model::ChatTurn::Role::User, model::Vlm::user_message("What colours does the lesion show?")}}, ""},
        model::DecodeParams{12, "", 0, 0});
    EXPECT_EQ(ours.text, direct.text);
    EXPECT_EQ(ours.completion_tokens, static_cast<int>(direct.tokens.size()));
    EXPECT_EQ(ours.image_tokens, encoded.image_tokens());
    EXPECT_GT(ours.prompt_tokens, ours.image_tokens);
    EXPECT_GT(ours.encode_ms, 0);
    EXPECT_EQ(ours.finish_reason, direct.stop_reason == model::StopReason::MaxTokens ? "length" : "stop");
    EXPECT_EQ(engine_->generate(request).text, ours.text);  // greedy: the same answer again
}

TEST_F(EngineTest, GenerationFollowsTheGrammarAndTheAnswerLead) {
    GenerateRequest request = question("Is the lesion symmetric? Answer yes or no.");
    request.grammar = R"(root ::= "yes" | "no")";
    request.answer_lead = "Answer: ";
    request.image = Image::from_file(dermlens::test::shared_lesion());
    const GeneratedText answer = engine_->generate(request);
    EXPECT_THAT((std::vector<std::string>{"yes", "no"}), ::testing::Contains(answer.text));
}

TEST_F(EngineTest, GenerateRequestsAreRefusedNamingTheField) {
    const auto field_of = [&](const std::function<void(GenerateRequest &)> & edit) {
        GenerateRequest request = question("Describe it.");
        edit(request);
        const Error error = thrown_by([&] { engine_->generate(request); });
        EXPECT_EQ(error.kind(), ErrorKind::InvalidArgument) << error.what();
        return error.field();
    };
    EXPECT_EQ(field_of([](auto & r) { r.messages.clear(); }), "messages");
    EXPECT_EQ(field_of([](auto & r) { r.messages.push_back({"assistant", "Sure."}); }), "messages");
    EXPECT_EQ(field_of([](auto & r) { r.messages.front().role = "doctor"; }), "messages");
    EXPECT_EQ(field_of([](auto & r) { r.max_tokens = 0; }), "max_tokens");
    EXPECT_EQ(field_of([](auto & r) { r.temperature = -1; }), "temperature");
}

TEST_F(EngineTest, CancellingAGenerationStopsIt) {
    GenerateRequest request = question("Describe it.");
    int generated = 0;
    request.progress = [&](std::string_view stage, int step, int) {
        if (stage == "generate") {
            generated = step;
        }
    };
    request.should_stop = [&] { return generated >= 2; };
    const Error cancelled = thrown_by([&] { engine_->generate(request); });
    EXPECT_EQ(cancelled.kind(), ErrorKind::Cancelled) << cancelled.what();
    EXPECT_EQ(generated, 2);
}

// Without an mmproj the Engine is a text model: it generates, and refuses images naming mmproj.
TEST(TextOnlyEngineTest, GeneratesTextAndRefusesImages) {
    EngineParams params = tiny_params();
    params.mmproj.clear();
    Engine engine(params);
    EXPECT_FALSE(engine.has_vision());
    GenerateRequest request = question("Name three causes of pruritus.");
    request.messages.insert(request.messages.begin(), {"system", "You are a dermatologist."});
    const GeneratedText first = engine.generate(request);
    EXPECT_FALSE(first.text.empty());
    EXPECT_EQ(first.image_tokens, 0);
    EXPECT_EQ(engine.generate(request).text, first.text);

    request.image = Image::from_file(dermlens::test::shared_lesion());
    const Error image = thrown_by([&] { engine.generate(request); });
    EXPECT_EQ(image.kind(), ErrorKind::InvalidArgument);
    EXPECT_EQ(image.field(), "mmproj");
    EXPECT_EQ(thrown_by([&] { engine.diagnose(*request.image, isic_request()); }).field(), "mmproj");
    EXPECT_EQ(thrown_by([&] { engine.encode(*request.image); }).field(), "mmproj");
}

}  // namespace
