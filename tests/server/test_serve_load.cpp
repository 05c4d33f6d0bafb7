// `dermlens serve` under load on loopback, bounded in time: 200 clients at once send a mix of
// valid and invalid requests; every answer is 200 or a documented 4xx / 429 / 503 in the one
// error shape, nothing hangs, and the server is alive afterwards. Prints the peak RSS and the
// p50 / p95 latency (also recorded as test properties).
#include "serve_fixture.h"

#include "data_uri.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <set>

namespace dermlens::test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Answer {
    int status = 0;  // 0: no answer
    bool error_shape = true;
    double seconds = 0;
    std::string failure;  // why there was no answer
};

std::string lesion_uri() {
    const std::string bytes = read_text_file(shared_lesion());
    return "data:image/jpeg;base64," + server::base64_encode(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}

// Client `i`'s request: one of eight kinds, valid and invalid.
Answer send(const ServeProcess & server, int i, const std::string & image) {
    auto client = server.client(60);
    const auto start = Clock::now();
    const auto diagnose = [&](const std::string & body) { return client.Post("/v1/diagnose", body, "application/json"); };
    const httplib::Result res = [&] {
        switch (i % 8) {
            case 0:
            case 1: return diagnose(json{{"image", image}, {"labels", "melanoma,nevus"}}.dump());
            case 2: return diagnose("{\"image\": [");
            case 3: return diagnose(json{{"image", "%%%"}, {"labels", "melanoma"}}.dump());
            case 4: return diagnose(json{{"image", image}, {"labels", "melanoma,unicornitis"}}.dump());
            case 5: return client.Get("/health");
            case 6: return diagnose(json{{"image", image}, {"labels", "melanoma"}, {"top_k", "many"}}.dump());
            default: return client.Post("/v1/diagnose", "labels=melanoma", "text/plain");
        }
    }();
    Answer answer;
    answer.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!res) {
        answer.failure = httplib::to_string(res.error());
        return answer;
    }
    answer.status = res->status;
    if (res->status >= 400) {
        const json body = json::parse(res->body, nullptr, false);
        answer.error_shape = body.is_object() && body.contains("error") && body["error"]["code"] == res->status;
    }
    return answer;
}

std::size_t peak_rss_kib(pid_t pid) {
    const std::string status = read_text_file("/proc/" + std::to_string(pid) + "/status");
    const auto at = status.find("VmHWM:");
    return at == std::string::npos ? 0 : std::stoul(status.substr(at + 6));
}

TEST(ServeLoad, TwoHundredClientsGetDocumentedAnswersAndTheServerLives) {
    ServeProcess server({"--parallel", "2", "--queue", "8", "--timeout", "60"});
    const std::string image = lesion_uri();
    const auto started = Clock::now();
    std::vector<std::future<Answer>> pending;
    for (int i = 0; i < 200; ++i) pending.push_back(std::async(std::launch::async, [&, i] { return send(server, i, image); }));
    std::vector<Answer> answers;
    for (auto & answer : pending) answers.push_back(answer.get());
    const double wall = std::chrono::duration<double>(Clock::now() - started).count();

    const std::set<int> documented = {200, 400, 413, 415, 429, 503};
    std::map<int, int> by_status;
    std::vector<double> latencies;
    for (const Answer & answer : answers) {
        ++by_status[answer.status];
        EXPECT_TRUE(documented.count(answer.status)) << "status " << answer.status << " " << answer.failure;
        EXPECT_TRUE(answer.error_shape) << "status " << answer.status << " without the error shape";
        latencies.push_back(answer.seconds);
    }
    EXPECT_GT(by_status[200], 25);  // /health, and diagnoses the queue admitted
    std::sort(latencies.begin(), latencies.end());
    const double p50 = latencies[latencies.size() / 2];
    const double p95 = latencies[latencies.size() * 95 / 100];
    const std::size_t rss = peak_rss_kib(server.pid());
    std::string statuses;
    for (const auto & [status, count] : by_status) statuses += std::to_string(status) + ":" + std::to_string(count) + " ";
    std::printf("load: 200 clients in %.1f s; statuses %s; latency p50 %.3f s, p95 %.3f s; server peak RSS %.1f MiB\n",
                wall, statuses.c_str(), p50, p95, static_cast<double>(rss) / 1024);
    RecordProperty("p50_seconds", std::to_string(p50));
    RecordProperty("p95_seconds", std::to_string(p95));
    RecordProperty("peak_rss_kib", std::to_string(rss));
    EXPECT_LT(wall, 90);

    const auto health = server.client().Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    const auto again = server.client().Post("/v1/diagnose", json{{"image", image}, {"labels", "melanoma,nevus"}}.dump(), "application/json");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
    EXPECT_EQ(json_of(again)["image"]["encoding"], "cache");
    const ProcessResult stopped = server.stop();
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
}

}  // namespace
}  // namespace dermlens::test
