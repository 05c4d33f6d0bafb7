// Concurrent calls for the same image bytes share one run of the vision encoder: the first
// call produces the encoding (from the embedding cache or the encoder), the others wait for
// it. The cache alone would not do: two requests for a new image arriving together would both
// miss it and both encode, which is how llama-server spends its parallel slots (issue 15).
#pragma once

#include "dermlens/engine.h"
#include "model/vlm.h"

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace dermlens::engine {

class SharedEncodes {
public:
    // The encoding of the image with this SHA-256: `produce`'s, or, when another call is
    // producing it, that call's (then `joined` is set). A waiting call asks `should_stop` at
    // once and every 100 ms (true: Error(Cancelled)); when the producing call fails (its image
    // does not decode, it was cancelled), a waiting one produces in its place.
    model::ImageEncoding get(const std::string & image_sha256, const std::function<model::ImageEncoding()> & produce,
                             const ShouldStopCallback & should_stop, bool & joined);

private:
    struct InFlight {
        bool done = false;
        std::optional<model::ImageEncoding> encoding;  // empty when its producer failed
    };

    void finish(const std::string & image_sha256, InFlight & in_flight, std::optional<model::ImageEncoding> encoding);

    std::mutex mutex_;
    std::condition_variable finished_;
    std::map<std::string, std::shared_ptr<InFlight>> in_flight_;
};

}  // namespace dermlens::engine
