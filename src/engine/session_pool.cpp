#include "engine/session_pool.h"

namespace dermlens::engine {

SessionPool::SessionPool(model::VlmParams params, int sessions) {
    sessions_.push_back(std::make_unique<model::Vlm>(std::move(params)));
    for (int i = 1; i < sessions; ++i) {
        sessions_.push_back(sessions_.front()->another_session());
    }
    for (auto it = sessions_.rbegin(); it != sessions_.rend(); ++it) {
        free_.push_back(it->get());  // the first session on top: a single caller always gets it
    }
}

SessionPool::Lease::~Lease() {
    pool_.give_back(vlm_);
}

SessionPool::Lease SessionPool::borrow() {
    std::unique_lock lock(mutex_);
    returned_.wait(lock, [this] { return !free_.empty(); });
    model::Vlm * vlm = free_.back();
    free_.pop_back();
    return Lease(*this, *vlm);
}

std::size_t SessionPool::busy() const {
    std::lock_guard lock(mutex_);
    return sessions_.size() - free_.size();
}

void SessionPool::give_back(model::Vlm & vlm) {
    {
        std::lock_guard lock(mutex_);
        free_.push_back(&vlm);
    }
    returned_.notify_one();
}

}  // namespace dermlens::engine
