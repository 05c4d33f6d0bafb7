// The CPU threads that the computations of one loaded model share: the vision encoder and every
// session's prompt and decoding steps (model::Vlm::another_session). A computation that runs
// alone gets all of them, as llama-server's single loop does; when several run at once, one
// starting gets its share, threads / computations running (itself included, at least one), so
// that a lone request on a server with several sessions is not held to a fixed fraction of the
// machine, and a busy server does not oversubscribe its cores much. libmtmd fixes its encoder's
// count when it loads, so the encoder always takes all threads and counts as a running
// computation for the sessions' steps that start beside it.
//
// The thread count changes no number (ggml's CPU kernels divide the outputs between threads, not
// the sums): tests/model/test_vlm_chat.cpp checks the encoder output, the scores and the tokens at
// 1 and 3 threads on every architecture.
#pragma once

#include <atomic>

namespace dermlens::model {

class ThreadShare {
public:
    explicit ThreadShare(int threads);  // at least 1

    // One computation, counted as running until it ends.
    class Turn {
    public:
        ~Turn() { share_.running_.fetch_sub(1); }
        Turn(const Turn &) = delete;
        Turn & operator=(const Turn &) = delete;
        int threads() const noexcept { return threads_; }

    private:
        friend class ThreadShare;
        Turn(ThreadShare & share, int threads) : share_(share), threads_(threads) {}
        ThreadShare & share_;
        int threads_;
    };

    Turn begin();  // never waits
    int threads() const noexcept { return threads_; }
    int running() const noexcept { return running_.load(); }

private:
    const int threads_;
    std::atomic<int> running_{0};
};

}  // namespace dermlens::model
