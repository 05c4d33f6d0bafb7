// The server's parts without a model: the bounded work queue, images in JSON (base64 checked
// against Python's base64 module's answers), the error shape and the Prometheus text.
#include "api_error.h"
#include "data_uri.h"
#include "metrics.h"
#include "work_queue.h"

#include "support/expect_error.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace dermlens::server {
namespace {

using test::expect_error;

TEST(WorkQueue, RefusesBeyondItsCapacityAndRunsWhatItAdmitted) {
    WorkQueue queue(1, 2);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> ran{0};
    const auto blocked = [&] {
        released.wait();
        ++ran;
    };
    ASSERT_TRUE(queue.try_submit(blocked));  // runs (and blocks) ...
    while (queue.running() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(queue.try_submit(blocked));   // ... two wait ...
    EXPECT_TRUE(queue.try_submit(blocked));
    EXPECT_EQ(queue.waiting(), 2u);
    EXPECT_FALSE(queue.try_submit(blocked));  // ... and the fourth is refused at once
    release.set_value();
    queue.wait_idle();
    EXPECT_EQ(ran, 3);
    queue.close();
    EXPECT_FALSE(queue.try_submit([] {}));
}

TEST(DataUri, DecodesDataUrisAndBase64) {
    // python3 -c "import base64; print(base64.b64encode(b'PNG!\x00\xff'))" -> UE5HIQD/
    const std::vector<std::uint8_t> expected = {'P', 'N', 'G', '!', 0x00, 0xff};
    EXPECT_EQ(decode_image_field("UE5HIQD/", "image"), expected);
    EXPECT_EQ(decode_image_field("data:image/png;base64,UE5HIQD/", "image"), expected);
    EXPECT_EQ(decode_image_field("UE5H\nIQ==", "image"), (std::vector<std::uint8_t>{'P', 'N', 'G', '!'}));
    EXPECT_EQ(decode_image_field("UE5HIQA=", "image"), (std::vector<std::uint8_t>{'P', 'N', 'G', '!', 0}));
    EXPECT_EQ(base64_encode(expected), "UE5HIQD/");
    EXPECT_EQ(base64_encode({'P', 'N', 'G', '!'}), "UE5HIQ==");
}

TEST(DataUri, RefusesUrlsAndBadBase64NamingTheField) {
    const auto refused = [](std::string_view text, const std::vector<std::string> & needles) {
        expect_error([&] { decode_image_field(text, "image_url"); }, ErrorKind::InvalidArgument, needles);
    };
    refused("https://example.org/x.png", {"image_url", "fetches no URL"});
    refused("file:///etc/passwd", {"image_url", "fetches no URL"});
    refused("data:image/png,abcd", {"image_url", "base64"});
    refused("UE5HIQD", {"image_url", "base64"});
    refused("UE5H*QD/", {"image_url", "base64"});
    refused("U===", {"image_url", "base64"});
    refused("UE=HIQD/", {"image_url", "base64"});
    refused("", {"image_url", "base64"});
}

TEST(ApiError, HasOneShapeAndTheStatusOfEachKind) {
    const auto body = api_error(Error(ErrorKind::InvalidArgument, "top_k: 0", "top_k")).body();
    EXPECT_EQ(body.dump(), R"({"error":{"code":400,"type":"invalid_request_error","message":"top_k: 0"}})");
    EXPECT_EQ(api_error(Error(ErrorKind::InvalidInput, "x")).status, 400);
    EXPECT_EQ(api_error(Error(ErrorKind::Cancelled, "x")).status, 503);
    EXPECT_EQ(api_error(Error(ErrorKind::Runtime, "x")).status, 500);
    EXPECT_EQ(api_error(Error(ErrorKind::InvalidModel, "x")).type, "server_error");
    EXPECT_EQ(queue_full().status, 429);
    EXPECT_EQ(unauthorized().type, "authentication_error");
    EXPECT_EQ(error_type_of_status(404), "not_found_error");
    EXPECT_EQ(error_type_of_status(413), "invalid_request_error");
}

TEST(Metrics, RendersPrometheusText) {
    Metrics metrics;
    metrics.count_request("/v1/diagnose", 200);
    metrics.count_request("/v1/diagnose", 200);
    metrics.count_request("/v1/diagnose", 429);
    metrics.observe_stage("encode", 0.3);
    metrics.observe_stage("encode", 3);
    metrics.count_refused_image("bad_base64");
    LiveGauges live;
    live.queue_waiting = 2;
    live.ready = true;
    const std::string text = metrics.render(live);
    EXPECT_NE(text.find("dermlens_requests_total{endpoint=\"/v1/diagnose\",status=\"200\"} 2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("dermlens_requests_total{endpoint=\"/v1/diagnose\",status=\"429\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("dermlens_queue_depth 2\n"), std::string::npos);
    EXPECT_NE(text.find("dermlens_ready 1\n"), std::string::npos);
    EXPECT_NE(text.find("dermlens_stage_seconds_bucket{stage=\"encode\",le=\"0.25\"} 0\n"), std::string::npos);
    EXPECT_NE(text.find("dermlens_stage_seconds_bucket{stage=\"encode\",le=\"0.5\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("dermlens_stage_seconds_bucket{stage=\"encode\",le=\"+Inf\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("dermlens_stage_seconds_sum{stage=\"encode\"} 3.3\n"), std::string::npos);
    EXPECT_NE(text.find("dermlens_images_refused_total{reason=\"bad_base64\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("# TYPE dermlens_stage_seconds histogram\n"), std::string::npos);
}

}  // namespace
}  // namespace dermlens::server
