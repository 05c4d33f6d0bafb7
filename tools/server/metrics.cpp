#include "metrics.h"

#include <fmt/format.h>

namespace dermlens::server {

void Metrics::count_request(const std::string & endpoint, int status) {
    std::lock_guard lock(mutex_);
    ++requests_[{endpoint, status}];
}

void Metrics::observe_stage(const std::string & stage, double seconds) {
    std::lock_guard lock(mutex_);
    Histogram & histogram = stages_[stage];
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) {
            ++histogram.counts[i];
        }
    }
    ++histogram.count;
    histogram.sum += seconds;
}

void Metrics::count_refused_image(const std::string & reason) {
    std::lock_guard lock(mutex_);
    ++refused_[reason];
}

void Metrics::count_encoding(bool reused) {
    std::lock_guard lock(mutex_);
    ++(reused ? reused_encodings_ : encoder_runs_);
}

std::string Metrics::render(const LiveGauges & live) const {
    std::lock_guard lock(mutex_);
    std::string out;
    const auto header = [&out](const char * name, const char * type, const char * help) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    };
    header("dermlens_requests_total", "counter", "HTTP requests answered, by endpoint and status.");
    for (const auto & [key, count] : requests_) {
        out += fmt::format("dermlens_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, count);
    }
    header("dermlens_ready", "gauge", "1 once the model is loaded.");
    out += fmt::format("dermlens_ready {}\n", live.ready ? 1 : 0);
    header("dermlens_queue_depth", "gauge", "Inference requests waiting for a worker.");
    out += fmt::format("dermlens_queue_depth {}\n", live.queue_waiting);
    header("dermlens_requests_in_flight", "gauge", "Inference requests a worker is running.");
    out += fmt::format("dermlens_requests_in_flight {}\n", live.in_flight);
    header("dermlens_sessions_busy", "gauge", "Decoding sessions of the Engine running a request now (at most --parallel).");
    out += fmt::format("dermlens_sessions_busy {}\n", live.sessions_busy);
    header("dermlens_encoder_runs_total", "counter", "Images the vision encoder ran on.");
    out += fmt::format("dermlens_encoder_runs_total {}\n", encoder_runs_);
    header("dermlens_reused_encodings_total", "counter",
           "Requests whose image encoding was not computed again (embedding cache or an earlier call).");
    out += fmt::format("dermlens_reused_encodings_total {}\n", reused_encodings_);
    header("dermlens_images_refused_total", "counter", "Images refused before inference, by reason.");
    for (const auto & [reason, count] : refused_) {
        out += fmt::format("dermlens_images_refused_total{{reason=\"{}\"}} {}\n", reason, count);
    }
    header("dermlens_stage_seconds", "histogram", "Seconds per inference stage (encode, describe, decide, prefill, decode).");
    for (const auto & [stage, histogram] : stages_) {
        for (std::size_t i = 0; i < kBuckets.size(); ++i) {
            out += fmt::format("dermlens_stage_seconds_bucket{{stage=\"{}\",le=\"{}\"}} {}\n", stage, kBuckets[i],
                               histogram.counts[i]);
        }
        out += fmt::format("dermlens_stage_seconds_bucket{{stage=\"{}\",le=\"+Inf\"}} {}\n", stage, histogram.count);
        out += fmt::format("dermlens_stage_seconds_sum{{stage=\"{}\"}} {}\n", stage, histogram.sum);
        out += fmt::format("dermlens_stage_seconds_count{{stage=\"{}\"}} {}\n", stage, histogram.count);
    }
    return out;
}

}  // namespace dermlens::server
