// ThreadShare (model/thread_share.h): a computation's share of the model's threads.
#include "model/thread_share.h"

#include <algorithm>

namespace dermlens::model {

ThreadShare::ThreadShare(int threads) : threads_(std::max(1, threads)) {}

ThreadShare::Turn ThreadShare::begin() {
    const int running = running_.fetch_add(1) + 1;
    return Turn(*this, std::max(1, threads_ / running));
}

}  // namespace dermlens::model
