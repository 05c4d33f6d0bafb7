#include "engine/shared_encodes.h"

#include "dermlens/error.h"

#include <chrono>

namespace dermlens::engine {

model::ImageEncoding SharedEncodes::get(const std::string & image_sha256,
                                        const std::function<model::ImageEncoding()> & produce,
                                        const ShouldStopCallback & should_stop, bool & joined) {
    std::unique_lock lock(mutex_);
    for (;;) {
        const auto found = in_flight_.find(image_sha256);
        if (found == in_flight_.end()) {
            break;
        }
        const std::shared_ptr<InFlight> waited = found->second;
        while (!waited->done) {
            if (should_stop && should_stop()) {
                throw Error(ErrorKind::Cancelled, "cancelled while another call encoded the same image");
            }
            finished_.wait_for(lock, std::chrono::milliseconds(100));
        }
        if (waited->encoding) {
            joined = true;
            return *waited->encoding;
        }
    }
    const auto mine = std::make_shared<InFlight>();
    in_flight_.emplace(image_sha256, mine);
    lock.unlock();
    try {
        model::ImageEncoding encoding = produce();
        finish(image_sha256, *mine, encoding);
        return encoding;
    } catch (...) {
        finish(image_sha256, *mine, std::nullopt);
        throw;
    }
}

void SharedEncodes::finish(const std::string & image_sha256, InFlight & in_flight,
                           std::optional<model::ImageEncoding> encoding) {
    {
        const std::lock_guard lock(mutex_);
        in_flight.encoding = std::move(encoding);
        in_flight.done = true;
        in_flight_.erase(image_sha256);
    }
    finished_.notify_all();
}

}  // namespace dermlens::engine
