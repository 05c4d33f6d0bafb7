#include "engine/session_pool.h"

#include <algorithm>

namespace dermlens::engine {

SessionPool::SessionPool(model::VlmParams params, int sessions) {
    sessions_.push_back(std::make_unique<model::Vlm>(std::move(params)));
    for (int i = 1; i < sessions; ++i) {
        sessions_.push_back(sessions_.front()->another_session());
    }
    for (auto it = sessions_.rbegin(); it != sessions_.rend(); ++it) {
        idle_.push_back({it->get(), ""});  // the first session last, as if returned last: a single caller gets it
    }
}

SessionPool::Lease::~Lease() {
    pool_.give_back(vlm_, std::move(image_));
}

SessionPool::Lease SessionPool::borrow(const std::string & image) {
    std::unique_lock lock(mutex_);
    returned_.wait(lock, [this] { return !idle_.empty(); });
    auto chosen = std::prev(idle_.end());  // no image: the most recently returned
    if (!image.empty()) {
        const auto holding = std::find_if(idle_.rbegin(), idle_.rend(), [&](const Idle & idle) { return idle.image == image; });
        chosen = holding != idle_.rend() ? std::prev(holding.base()) : idle_.begin();
    }
    model::Vlm & vlm = *chosen->vlm;
    idle_.erase(chosen);
    return Lease(*this, vlm, image);
}

std::size_t SessionPool::busy() const {
    std::lock_guard lock(mutex_);
    return sessions_.size() - idle_.size();
}

void SessionPool::give_back(model::Vlm & vlm, std::string image) {
    {
        std::lock_guard lock(mutex_);
        idle_.push_back({&vlm, std::move(image)});
    }
    returned_.notify_one();
}

}  // namespace dermlens::engine
