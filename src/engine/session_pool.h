// The Engine's decoding sessions (EngineParams::parallel): Vlms on one loaded model
// (model::Vlm::another_session), each with a KV cache of its own, so that that many calls run
// at the same time on different threads. A call borrows a free session for its length and
// waits while every one is busy; the most recently returned one is lent first, so that a lone
// caller keeps the session whose KV cache holds its previous prompt.
#pragma once

#include "model/vlm.h"

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace dermlens::engine {

class SessionPool {
public:
    // Loads the model pair once and makes `sessions` contexts on it.
    SessionPool(model::VlmParams params, int sessions);

    // A borrowed session, given back when the lease ends.
    class Lease {
    public:
        ~Lease();
        Lease(const Lease &) = delete;
        Lease & operator=(const Lease &) = delete;
        model::Vlm & vlm() const noexcept { return vlm_; }

    private:
        friend class SessionPool;
        Lease(SessionPool & pool, model::Vlm & vlm) : pool_(pool), vlm_(vlm) {}
        SessionPool & pool_;
        model::Vlm & vlm_;
    };

    Lease borrow();  // waits until a session is free

    // The first session, for what reads the loaded model without decoding: its parameters, the
    // shared vision encoder (Vlm::encode may run beside a decoding session), a reranker's checks.
    model::Vlm & first() const noexcept { return *sessions_.front(); }
    std::size_t size() const noexcept { return sessions_.size(); }
    std::size_t busy() const;

private:
    void give_back(model::Vlm & vlm);

    std::vector<std::unique_ptr<model::Vlm>> sessions_;
    mutable std::mutex mutex_;
    std::condition_variable returned_;
    std::vector<model::Vlm *> free_;  // a stack: the last one given back is lent first
};

}  // namespace dermlens::engine
