// `dermlens serve` end to end on a generated tiny model, started and stopped by the test: every
// endpoint (chat completions included), every documented error (always the one JSON shape, the server serving on), the
// answer of /v1/diagnose against `dermlens diagnose --json` on the same image (the reference),
// the shared encoding, the API key, CORS, heat maps, the bounded queue, cancellation when the
// client leaves, the timeout, requests decoded at once with --parallel, the 503 while loading and
// the drain on SIGTERM.
#include "serve_fixture.h"

#include "data_uri.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

namespace dermlens::test {
namespace {

using nlohmann::json;
const httplib::Headers kKey = {{"X-Api-Key", "s3cret"}};

std::string file_bytes(const std::filesystem::path & path) {
    return read_text_file(path);
}

std::string data_uri(const std::filesystem::path & path) {
    const std::string bytes = file_bytes(path);
    return "data:image/jpeg;base64," + server::base64_encode(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}

httplib::MultipartFormDataItems lesion_form(const std::vector<std::pair<std::string, std::string>> & fields) {
    httplib::MultipartFormDataItems items = {{"image", file_bytes(shared_lesion()), "ISIC_0000002.jpg", "image/jpeg"}};
    for (const auto & [name, value] : fields) items.push_back({name, value, "", ""});
    return items;
}

// The answer is the error shape with this status, and its message holds `needle`.
// A raw socket to the server (-1 on failure), for requests httplib would not send: truncated, abandoned.
int connect_loopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

void expect_api_error(const httplib::Result & res, int status, const std::string & needle) {
    ASSERT_TRUE(res) << "no answer";
    EXPECT_EQ(res->status, status) << res->body;
    const json body = json::parse(res->body, nullptr, false);
    ASSERT_TRUE(body.is_object() && body.contains("error")) << res->body;
    EXPECT_EQ(body["error"]["code"], status);
    EXPECT_TRUE(body["error"]["type"].is_string());
    EXPECT_NE(body["error"]["message"].get<std::string>().find(needle), std::string::npos) << res->body;
}

// The CLI's report of the same image and labels: what /v1/diagnose must answer, timings and the
// image's name and encoding aside.
json cli_report(const std::vector<std::string> & options) {
    const auto & files = TinyModel::shared().files;
    std::vector<std::string> argv = {DERMLENS_CLI, "diagnose", "-m", files.model.string(), "--mmproj", files.mmproj.string(),
                                     "--threads", "1", "--json"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(shared_lesion().string());
    const ProcessResult result = run_process(argv);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return json::parse(result.out)[0];
}

json without_run_details(json report) {
    report.erase("timings");
    report["image"].erase("path");
    report["image"].erase("encoding");
    report["model"].erase("path");
    report["mmproj"].erase("path");
    return report;
}

TEST(ServeApi, EveryEndpointAndEveryError) {
    ServeProcess server({"--api-key", "s3cret", "--cors-origin", "http://clinic.example", "--max-body-mb", "1"});
    auto client = server.client();

    // /health is public; the API needs the key, as a header or a Bearer token.
    const auto health = client.Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    EXPECT_EQ(json_of(health)["status"], "ok");
    expect_api_error(client.Get("/v1/info"), 401, "API key");
    expect_api_error(client.Get("/v1/info", {{"X-Api-Key", "wrong"}}), 401, "API key");
    expect_api_error(client.Get("/metrics"), 401, "API key");
    const auto info = client.Get("/v1/info", {{"Authorization", "Bearer s3cret"}});
    ASSERT_TRUE(info);
    ASSERT_EQ(info->status, 200) << info->body;
    const json info_json = json_of(info);
    EXPECT_EQ(info_json["architecture"], "gemma3");
    EXPECT_EQ(info_json["model"]["name"], "model.gguf");
    EXPECT_EQ(info_json["strategies"][0], "direct");
    EXPECT_FALSE(info_json["label_sets"].empty());
    EXPECT_EQ(info_json["limits"]["max_body_bytes"], 1 << 20);

    // The knowledge base.
    const auto condition = client.Get("/v1/kb/conditions/melanoma", kKey);
    ASSERT_TRUE(condition);
    EXPECT_EQ(condition->status, 200);
    EXPECT_EQ(json_of(condition)["id"], "melanoma");
    expect_api_error(client.Get("/v1/kb/conditions/unicornitis", kKey), 404, "unicornitis");
    const auto label_set = client.Get("/v1/kb/labelsets/isic9class", kKey);
    ASSERT_TRUE(label_set);
    EXPECT_EQ(label_set->status, 200);
    EXPECT_FALSE(json_of(label_set)["labels"].empty());
    expect_api_error(client.Get("/v1/kb/labelsets/nosuchset", kKey), 404, "nosuchset");
    expect_api_error(client.Get("/v1/nothing", kKey), 404, "/v1/nothing");

    // A multipart upload answers exactly what `diagnose --json` prints for the same image.
    const auto first = client.Post("/v1/diagnose", kKey, lesion_form({{"labels", "melanoma,nevus,basal cell carcinoma"}}));
    ASSERT_TRUE(first);
    ASSERT_EQ(first->status, 200) << first->body;
    const json served = json_of(first);
    EXPECT_EQ(served["image"]["encoding"], "encoder");
    EXPECT_EQ(served["image"]["path"], "ISIC_0000002.jpg");
    EXPECT_EQ(without_run_details(served), without_run_details(cli_report({"--labels", "melanoma,nevus,basal cell carcinoma"})));

    // The same bytes as JSON: the encoding comes from the shared cache, the answer is the same.
    const json body = {{"image", data_uri(shared_lesion())}, {"labels", {"melanoma", "nevus", "basal cell carcinoma"}}};
    const auto second = client.Post("/v1/diagnose", kKey, body.dump(), "application/json");
    ASSERT_TRUE(second);
    ASSERT_EQ(second->status, 200) << second->body;
    EXPECT_EQ(json_of(second)["image"]["encoding"], "cache");
    EXPECT_EQ(json_of(second)["candidates"], served["candidates"]);
    const auto with_set = client.Post("/v1/diagnose", kKey,
                                      json{{"image", data_uri(shared_lesion())}, {"label_set", "isic9class"}, {"age", 54},
                                           {"sex", "female"}}.dump(),
                                      "application/json");
    ASSERT_TRUE(with_set);
    EXPECT_EQ(with_set->status, 200) << with_set->body;
    EXPECT_EQ(json_of(with_set)["clinical_context"]["age"], 54);

    // OpenAI-style chat about the same image: its encoding is the cached one.
    const json chat = {{"model", "any"},
                       {"messages",
                        {{{"role", "system"}, {"content", "You are a dermatologist."}},
                         {{"role", "user"},
                          {"content",
                           {{{"type", "image_url"}, {"image_url", {{"url", data_uri(shared_lesion())}}}},
                            {{"type", "text"}, {"text", "Describe the border."}}}}}}},
                       {"max_tokens", 8}};
    const auto answer = client.Post("/v1/chat/completions", kKey, chat.dump(), "application/json");
    ASSERT_TRUE(answer);
    ASSERT_EQ(answer->status, 200) << answer->body;
    const json completion = json_of(answer);
    EXPECT_EQ(completion["object"], "chat.completion");
    EXPECT_EQ(completion["choices"][0]["message"]["role"], "assistant");
    EXPECT_TRUE(completion["choices"][0]["message"]["content"].is_string());
    EXPECT_THAT(completion["choices"][0]["finish_reason"].get<std::string>(), testing::AnyOf("stop", "length"));
    EXPECT_LE(completion["usage"]["completion_tokens"].get<int>(), 8);
    EXPECT_GT(completion["usage"]["prompt_tokens"].get<int>(), 8);  // the image's tokens and the text's
    const json text_only = {{"messages", {{{"role", "user"}, {"content", "Name one benign skin lesion."}}}}, {"max_tokens", 4}};
    const auto text_answer = client.Post("/v1/chat/completions", kKey, text_only.dump(), "application/json");
    ASSERT_TRUE(text_answer);
    EXPECT_EQ(text_answer->status, 200) << text_answer->body;
    const auto post_chat = [&](const json & conversation) {
        return client.Post("/v1/chat/completions", kKey, conversation.dump(), "application/json");
    };
    json streaming = text_only;
    streaming["stream"] = true;
    expect_api_error(post_chat(streaming), 400, "stream");
    expect_api_error(post_chat(json{{"messages", json::array()}}), 400, "messages");
    expect_api_error(post_chat(json{{"messages", {{{"role", "user"}, {"content", 5}}}}}), 400, "messages[0].content");
    json two_images = chat;
    two_images["messages"][1]["content"].push_back(chat["messages"][1]["content"][0]);
    expect_api_error(post_chat(two_images), 400, "one image");
    json url_image = chat;
    url_image["messages"][1]["content"][0]["image_url"]["url"] = "http://example.org/lesion.jpg";
    expect_api_error(post_chat(url_image), 400, "fetches no URL");
    json bad_max = text_only;
    bad_max["max_tokens"] = "many";
    expect_api_error(post_chat(bad_max), 400, "max_tokens");
    expect_api_error(client.Post("/v1/chat/completions", kKey, "hello", "text/plain"), 415, "application/json");

    // Every malformed request: a 4xx in the one shape.
    const auto post_json = [&](const std::string & text) { return client.Post("/v1/diagnose", kKey, text, "application/json"); };
    expect_api_error(post_json("{\"image\": "), 400, "not valid JSON");
    expect_api_error(post_json("[1, 2]"), 400, "JSON object");
    expect_api_error(post_json(json{{"labels", "melanoma"}}.dump()), 400, "image: missing");
    expect_api_error(post_json(json{{"image", 5}, {"labels", "melanoma"}}.dump()), 400, "image: expected a string");
    expect_api_error(post_json(json{{"image", "@@@@"}, {"labels", "melanoma"}}.dump()), 400, "base64");
    expect_api_error(post_json(json{{"image", "https://example.org/a.jpg"}, {"labels", "melanoma"}}.dump()), 400,
                     "fetches no URL");
    expect_api_error(post_json(json{{"image", data_uri(shared_lesion())}, {"labels", "melanoma,unicornitis"}}.dump()), 400,
                     "unicornitis");
    expect_api_error(post_json(json{{"image", data_uri(shared_lesion())}, {"labels", "melanoma,nevus"}, {"top_k", "x"}}.dump()),
                     400, "top_k");
    expect_api_error(post_json(json{{"image", data_uri(shared_lesion())}, {"labels", "melanoma,nevus"}, {"colour", 1}}.dump()),
                     400, "colour: unknown option");
    expect_api_error(post_json(json{{"image", server::base64_encode({'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'})},
                                    {"labels", "melanoma,nevus"}}.dump()),
                     400, "upload");
    expect_api_error(client.Post("/v1/diagnose", kKey, "image=abc", "text/plain"), 415, "multipart/form-data");
    expect_api_error(client.Post("/v1/diagnose", kKey, std::string(2 << 20, 'x'), "application/json"), 413, "limit");
    httplib::MultipartFormDataItems text_upload = {{"image", "just text", "notes.txt", "text/plain"}, {"labels", "melanoma,nevus", "", ""}};
    expect_api_error(client.Post("/v1/diagnose", kKey, text_upload), 400, "notes.txt");
    expect_api_error(client.Post("/v1/diagnose", kKey, lesion_form({{"labels", "melanoma,nevus"}, {"heatmap", "true"}})), 400,
                     "attention");

    // A truncated upload (the client promises more than it sends, then leaves) harms nothing.
    {
        const int fd = connect_loopback(server.port());
        ASSERT_GE(fd, 0);
        const std::string head = "POST /v1/diagnose HTTP/1.1\r\nHost: x\r\nX-Api-Key: s3cret\r\n"
                                 "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"image\": \"UE5H";
        ASSERT_EQ(::send(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
        ::close(fd);
    }

    // CORS: only the named origin, preflight included.
    const auto preflight = client.Options("/v1/diagnose", {{"Origin", "http://clinic.example"},
                                                           {"Access-Control-Request-Method", "POST"}});
    ASSERT_TRUE(preflight);
    EXPECT_EQ(preflight->status, 204);
    EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Origin"), "http://clinic.example");
    const auto foreign = client.Get("/v1/info", {{"Origin", "http://elsewhere.example"}, {"X-Api-Key", "s3cret"}});
    ASSERT_TRUE(foreign);
    EXPECT_FALSE(foreign->has_header("Access-Control-Allow-Origin"));

    // The web page.
    const auto page = client.Get("/");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    EXPECT_NE(page->body.find("not a medical device"), std::string::npos);

    // /metrics counted all of it; the encoder ran once for the three requests on the same bytes.
    const auto metrics = client.Get("/metrics", kKey);
    ASSERT_TRUE(metrics);
    EXPECT_NE(metrics->body.find("dermlens_requests_total{endpoint=\"/v1/diagnose\",status=\"200\"} 3"), std::string::npos)
        << metrics->body;
    EXPECT_NE(metrics->body.find("dermlens_requests_total{endpoint=\"/v1/diagnose\",status=\"413\"} 1"), std::string::npos);
    EXPECT_NE(metrics->body.find("dermlens_encoder_runs_total 1\n"), std::string::npos) << metrics->body;
    EXPECT_NE(metrics->body.find("dermlens_reused_encodings_total 3\n"), std::string::npos);  // two diagnoses, one chat
    EXPECT_NE(metrics->body.find("dermlens_images_refused_total{reason=\"bad_base64\"}"), std::string::npos);
    EXPECT_NE(metrics->body.find("dermlens_images_refused_total{reason=\"invalid_image\"} 2"), std::string::npos);
    EXPECT_NE(metrics->body.find("dermlens_stage_seconds_count{stage=\"encode\"} 1"), std::string::npos);

    // Still serving; SIGTERM stops it cleanly.
    EXPECT_EQ(client.Get("/health")->status, 200);
    const ProcessResult stopped = server.stop();
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
}

// "quality": "reject" answers a rejected image exactly as `diagnose --quality reject --json`
// reports it (the reference), and the model does not run for it; "off" leaves the gate out;
// another word is refused naming the field.
TEST(ServeApi, TheQualityGateRefusesRejectedImagesOnRequest) {
    TempDir dir("serve-quality");
    const std::filesystem::path grey = dir / "grey.png";  // flat and tiny: rejected for contrast and resolution
    ASSERT_TRUE(cv::imwrite(grey.string(), cv::Mat3b(40, 40, cv::Vec3b(128, 128, 128))));
    ServeProcess server({});
    auto client = server.client();
    const httplib::MultipartFormDataItems form = {
        {"image", file_bytes(grey), "grey.png", "image/png"}, {"labels", "melanoma,nevus", "", ""}, {"quality", "reject", "", ""}};
    const auto refused = client.Post("/v1/diagnose", form);
    ASSERT_TRUE(refused);
    ASSERT_EQ(refused->status, 200) << refused->body;
    json served = json_of(refused);
    EXPECT_EQ(served["quality"]["overall"], "reject");
    EXPECT_FALSE(served.contains("candidates"));
    EXPECT_NE(served["refused"].get<std::string>().find("too little contrast"), std::string::npos) << served.dump(2);

    const auto & files = TinyModel::shared().files;
    const ProcessResult cli = run_process({DERMLENS_CLI, "diagnose", "-m", files.model.string(), "--mmproj",
                                           files.mmproj.string(), "--threads", "1", "--json", "--quality", "reject",
                                           "--labels", "melanoma,nevus", grey.string()});
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    json reference = json::parse(cli.out)[0];
    for (json * report : {&served, &reference}) {
        report->erase("timings");
        (*report)["image"].erase("path");
    }
    EXPECT_EQ(served, reference);

    const auto ungated = client.Post("/v1/diagnose", lesion_form({{"labels", "melanoma,nevus"}, {"quality", "off"}}));
    ASSERT_TRUE(ungated);
    ASSERT_EQ(ungated->status, 200) << ungated->body;
    EXPECT_FALSE(json_of(ungated).contains("quality"));
    EXPECT_EQ(json_of(ungated)["candidates"].size(), 2u);
    expect_api_error(client.Post("/v1/diagnose", lesion_form({{"labels", "melanoma,nevus"}, {"quality", "strict"}})), 400,
                     "quality: expected");

    const auto metrics = client.Get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_NE(metrics->body.find("dermlens_images_refused_total{reason=\"quality\"} 1\n"), std::string::npos) << metrics->body;
    EXPECT_NE(metrics->body.find("dermlens_encoder_runs_total 1\n"), std::string::npos) << metrics->body;  // the lesion only
}

TEST(ServeApi, HeatMapsComeBackAsPngDataUris) {
    ServeProcess server({"--attention"});
    auto client = server.client();
    const auto res = client.Post("/v1/diagnose", lesion_form({{"labels", "melanoma,nevus"}, {"heatmap", "true"}}));
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const json report = json_of(res);
    for (const char * map : {"label", "all"}) {
        const std::string uri = report["heatmaps"][map].get<std::string>();
        ASSERT_EQ(uri.rfind("data:image/png;base64,", 0), 0u) << map;
        const auto png = server::decode_image_field(uri, "heatmap");
        ASSERT_GT(png.size(), 8u);
        EXPECT_EQ(std::string(png.begin() + 1, png.begin() + 4), "PNG");
    }
}

TEST(ServeApi, TheQueueIsBoundedAndLeavingClientsAreCancelled) {
    ServeProcess server({"--parallel", "1", "--queue", "1", "--attention"});
    const auto request = [&] {
        auto client = server.client();
        // Describing first makes each request long enough for the others to find the queue full.
        return client.Post("/v1/diagnose",
                           lesion_form({{"labels", "melanoma,nevus"}, {"strategy", "describe-then-decide"}, {"attention", "true"}}));
    };
    std::vector<std::future<httplib::Result>> answers;
    for (int i = 0; i < 8; ++i) answers.push_back(std::async(std::launch::async, request));
    int ok = 0, refused = 0;
    for (auto & answer : answers) {
        const httplib::Result res = answer.get();
        ASSERT_TRUE(res);
        if (res->status == 200) {
            ++ok;
        } else {
            expect_api_error(res, 429, "queue is full");
            EXPECT_EQ(res->get_header_value("Retry-After"), "5");
            ++refused;
        }
    }
    EXPECT_GE(ok, 1);
    EXPECT_GE(refused, 1);

    // A client that sends a request and leaves: its request is cancelled (status 499 in /metrics,
    // given only when the Engine stopped). Describing first gives the Engine tokens to stop before.
    const std::string body = json{{"image", data_uri(shared_lesion().parent_path() / "ISIC_0000004.jpg")}, {"labels", "melanoma,nevus"},
                                  {"strategy", "describe-then-decide"}}.dump();
    const int fd = connect_loopback(server.port());
    ASSERT_GE(fd, 0);
    const std::string message = "POST /v1/diagnose HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    ASSERT_EQ(::send(fd, message.data(), message.size(), 0), static_cast<ssize_t>(message.size()));
    ::close(fd);
    auto client = server.client();
    std::string metrics;
    for (int i = 0; i < 200 && metrics.find("status=\"499\"") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        metrics = client.Get("/metrics")->body;
    }
    EXPECT_NE(metrics.find("dermlens_requests_total{endpoint=\"/v1/diagnose\",status=\"499\"} 1"), std::string::npos) << metrics;
}

TEST(ServeApi, SlowRequestsTimeOut) {
    ServeProcess server({"--timeout", "0.001"});
    expect_api_error(server.client().Post("/v1/diagnose", lesion_form({{"labels", "melanoma,nevus"}})), 503, "timeout");
    EXPECT_EQ(server.client().Get("/health")->status, 200);
}

TEST(ServeApi, SigtermDrainsTheRequestsInFlight) {
    ServeProcess server({"--parallel", "1", "--queue", "4"});
    auto in_flight = std::async(std::launch::async, [&] {
        return server.client().Post("/v1/diagnose", lesion_form({{"labels", "melanoma,nevus"}, {"strategy", "describe-then-decide"}}));
    });
    std::string metrics;
    for (int i = 0; i < 400 && metrics.find("dermlens_requests_in_flight 1") == std::string::npos; ++i) {
        metrics = server.client().Get("/metrics")->body;
    }
    // While the model is busy, /health and /v1/info answer at once.
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(server.client().Get("/health")->status, 200);
    EXPECT_EQ(server.client().Get("/v1/info")->status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));
    server.signal(SIGTERM);
    const httplib::Result finished = in_flight.get();
    ASSERT_TRUE(finished);
    EXPECT_EQ(finished->status, 200) << finished->body;
    const ProcessResult stopped = server.stop();
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_NE(stopped.err.find("draining"), std::string::npos);
}

// --parallel 2: two long generations are decoded at once, each on a session of the Engine's
// own (the gauge counts sessions running a request, not requests admitted), and both answer.
TEST(ServeApi, ParallelRequestsDecodeAtOnce) {
    ServeProcess server({"--parallel", "2", "--queue", "2"});
    EXPECT_EQ(json_of(server.client().Get("/v1/info"))["limits"]["parallel"], 2);
    const auto long_generation = [&](const std::string & question) {
        const json chat = {{"messages", {{{"role", "user"}, {"content", question}}}}, {"max_tokens", 600}};
        return server.client().Post("/v1/chat/completions", chat.dump(), "application/json");
    };
    auto first = std::async(std::launch::async, long_generation, "Describe a melanoma.");
    auto second = std::async(std::launch::async, long_generation, "Describe a nevus.");
    std::string metrics;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (metrics.find("dermlens_sessions_busy 2") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        metrics = server.client().Get("/metrics")->body;
    }
    EXPECT_NE(metrics.find("dermlens_sessions_busy 2"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("dermlens_requests_in_flight 2"), std::string::npos) << metrics;
    for (auto * answer : {&first, &second}) {
        const httplib::Result res = answer->get();
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 200) << res->body;
    }
    EXPECT_NE(server.client().Get("/metrics")->body.find("dermlens_sessions_busy 0"), std::string::npos);
}

TEST(ServeApi, HealthIsUnavailableWhileLoadingAndABadModelStopsTheServer) {
    {
        // The server listens before it loads: its first answers come while the model loads.
        ServeProcess server({}, /*wait_ready=*/false);
        expect_api_error(server.client().Get("/health"), 503, "Loading model");
        int status = 0;
        for (int i = 0; i < 600 && status != 200; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            status = server.client().Get("/health")->status;
        }
        EXPECT_EQ(status, 200);
    }
    TempDir dir("serve-bad-model");
    testmodel::Files files = TinyModel::shared().files;
    files.model = dir / "notes.gguf";
    std::ofstream(files.model) << "not a model\n";
    ServeProcess server({}, /*wait_ready=*/false, files);
    const ProcessResult stopped = server.wait();
    EXPECT_EQ(stopped.exit_code, 4) << stopped.err;
    EXPECT_NE(stopped.err.find("notes.gguf"), std::string::npos) << stopped.err;
}

}  // namespace
}  // namespace dermlens::test
