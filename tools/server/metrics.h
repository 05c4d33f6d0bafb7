// The server's counters in Prometheus's text format (GET /metrics), named as llama-server's are
// (a prefix and snake_case): requests by endpoint and status, the queue, the time spent per
// stage of inference as histograms, encodings computed and reused, images refused by reason.
// The queue's and the Engine's gauges are read when rendered; nothing here waits for an
// inference, so that /metrics and /health answer while long ones run.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace dermlens::server {

struct LiveGauges {
    std::size_t queue_waiting = 0;
    std::size_t in_flight = 0;
    std::size_t sessions_busy = 0;  // the Engine's decoding sessions running a request
    bool ready = false;
};

class Metrics {
public:
    void count_request(const std::string & endpoint, int status);
    // Seconds spent in one stage: "encode", "describe", "decide" (diagnose), "prefill", "decode" (chat).
    void observe_stage(const std::string & stage, double seconds);
    void count_refused_image(const std::string & reason);  // body_too_large, bad_base64, invalid_image, missing_image, quality
    void count_encoding(bool reused);  // an image's encoding: the encoder's, or reused (cache or earlier call)

    std::string render(const LiveGauges & live) const;

private:
    static constexpr std::array<double, 12> kBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
    struct Histogram {
        std::array<std::size_t, kBuckets.size()> counts{};  // cumulative per bucket
        std::size_t count = 0;
        double sum = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, std::size_t> requests_;
    std::map<std::string, Histogram> stages_;
    std::map<std::string, std::size_t> refused_;
    std::size_t encoder_runs_ = 0;
    std::size_t reused_encodings_ = 0;
};

}  // namespace dermlens::server
