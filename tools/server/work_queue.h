// A fixed pool of workers fed by a bounded queue: a job beyond `capacity` waiting ones is
// refused at once (the server answers 429) instead of waiting without bound, as llama-server's
// task queue does. The workers share the one loaded Engine, which has a decoding session for each.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dermlens::server {

class WorkQueue {
public:
    WorkQueue(std::size_t workers, std::size_t capacity);
    ~WorkQueue();  // runs the jobs still queued, then joins the workers
    WorkQueue(const WorkQueue &) = delete;
    WorkQueue & operator=(const WorkQueue &) = delete;

    // Queues `job`; false when `capacity` jobs already wait or the queue is closed.
    bool try_submit(std::function<void()> job);

    std::size_t waiting() const;
    std::size_t running() const;
    void close();         // refuse new jobs from now on
    void wait_idle();     // until nothing waits or runs

private:
    void work();

    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::function<void()>> jobs_;
    std::size_t running_ = 0;
    bool closed_ = false;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace dermlens::server
