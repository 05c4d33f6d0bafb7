#include "work_queue.h"

namespace dermlens::server {

WorkQueue::WorkQueue(std::size_t workers, std::size_t capacity) : capacity_(capacity) {
    for (std::size_t i = 0; i < workers; ++i) {
        workers_.emplace_back([this] { work(); });
    }
}

WorkQueue::~WorkQueue() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        stopping_ = true;
    }
    changed_.notify_all();
    for (auto & worker : workers_) {
        worker.join();
    }
}

bool WorkQueue::try_submit(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (closed_ || jobs_.size() >= capacity_) {
            return false;
        }
        jobs_.push_back(std::move(job));
    }
    changed_.notify_all();
    return true;
}

std::size_t WorkQueue::waiting() const {
    std::lock_guard lock(mutex_);
    return jobs_.size();
}

std::size_t WorkQueue::running() const {
    std::lock_guard lock(mutex_);
    return running_;
}

void WorkQueue::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
}

void WorkQueue::wait_idle() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return jobs_.empty() && running_ == 0; });
}

void WorkQueue::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        changed_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) {
            return;  // stopping, and nothing left to run
        }
        std::function<void()> job = std::move(jobs_.front());
        jobs_.pop_front();
        ++running_;
        lock.unlock();
        job();  // jobs catch their own errors: the server's never throw
        lock.lock();
        --running_;
        changed_.notify_all();
    }
}

}  // namespace dermlens::server
