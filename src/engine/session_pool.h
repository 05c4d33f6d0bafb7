// The Engine's decoding sessions (EngineParams::parallel): Vlms on one loaded model
// (model::Vlm::another_session), each with a KV cache of its own, so that that many calls run
// at the same time on different threads. A call borrows a free session for its length and
// waits while every one is busy. Which free session it gets follows the prompt-prefix reuse of
// each KV cache (model/kv_prefix.h), as llama-server's slot choice by prompt similarity does:
// a call about an image gets the session that last held that image (the image's tokens are
// then served from its KV cache), else the one idle longest, so that the images asked about
// most recently stay where they are for their next question; a call without an image gets the
// most recently returned session, so that a lone caller keeps the session whose KV cache holds
// its previous prompt. The choice only decides what can be reused, never an answer.
#pragma once

#include "model/vlm.h"

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
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
        Lease(SessionPool & pool, model::Vlm & vlm, std::string image) : pool_(pool), vlm_(vlm), image_(std::move(image)) {}
        SessionPool & pool_;
        model::Vlm & vlm_;
        std::string image_;  // what the session's KV cache holds once the call is done
    };

    // Waits until a session is free. `image`: the SHA-256 of the image the call reads ("" for
    // none), which picks among the free sessions (see above).
    Lease borrow(const std::string & image = "");

    // The first session, for what reads the loaded model without decoding: its parameters, the
    // shared vision encoder (Vlm::encode may run beside a decoding session), a reranker's checks.
    model::Vlm & first() const noexcept { return *sessions_.front(); }
    std::size_t size() const noexcept { return sessions_.size(); }
    std::size_t busy() const;

private:
    struct Idle {
        model::Vlm * vlm;
        std::string image;  // the image its KV cache holds, "" when none
    };

    void give_back(model::Vlm & vlm, std::string image);

    std::vector<std::unique_ptr<model::Vlm>> sessions_;
    mutable std::mutex mutex_;
    std::condition_variable returned_;
    std::vector<Idle> idle_;  // in the order they were given back: the front idle longest
};

}  // namespace dermlens::engine
