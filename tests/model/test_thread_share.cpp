// ThreadShare: a computation alone gets every thread; one starting beside others gets its share
// (threads / computations running, at least one); a share ends with its computation.
#include "model/thread_share.h"

#include <gtest/gtest.h>

namespace {

using dermlens::model::ThreadShare;

TEST(ThreadShare, AComputationAloneGetsEveryThread) {
    ThreadShare share(4);
    {
        const ThreadShare::Turn turn = share.begin();
        EXPECT_EQ(turn.threads(), 4);
        EXPECT_EQ(share.running(), 1);
    }
    EXPECT_EQ(share.running(), 0);
    EXPECT_EQ(share.begin().threads(), 4);  // again, once the first has ended
}

TEST(ThreadShare, ComputationsStartingBesideOthersGetTheirShare) {
    ThreadShare share(4);
    const ThreadShare::Turn first = share.begin();
    const ThreadShare::Turn second = share.begin();
    const ThreadShare::Turn third = share.begin();
    EXPECT_EQ(second.threads(), 2);
    EXPECT_EQ(third.threads(), 1);  // 4 / 3
    {
        const ThreadShare::Turn fourth = share.begin();
        const ThreadShare::Turn fifth = share.begin();
        EXPECT_EQ(fifth.threads(), 1);  // never none
    }
    EXPECT_EQ(share.running(), 3);
    EXPECT_EQ(first.threads(), 4);  // a running computation keeps what it started with
}

TEST(ThreadShare, AtLeastOneThreadInAll) {
    ThreadShare share(0);
    EXPECT_EQ(share.threads(), 1);
    EXPECT_EQ(share.begin().threads(), 1);
}

}  // namespace
