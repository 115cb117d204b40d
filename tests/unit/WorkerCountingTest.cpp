// How many workers exist (WorkerHandOff's count, decided under the registry's
// lock), and the per-CPU counters every read adds to.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "service/connection/WorkerHandOff.h"
#include "service/core/PerCpuCounters.h"

namespace echod {
namespace {

TEST(WorkerHandOff, OneWorkerIsStartedPerQueuedConnectionUpToTheMaximum) {
  WorkerHandOff handOff(WorkerHandOff::Limits{2, 4});  // the two up front are on their way
  EXPECT_EQ(handOff.starting(), 2u);
  EXPECT_TRUE(handOff.wantWorker());
  EXPECT_TRUE(handOff.wantWorker());
  EXPECT_FALSE(handOff.wantWorker()) << "four exist: the fifth connection waits for one to finish";
  EXPECT_EQ(handOff.starting(), 4u);
  handOff.arrived();
  EXPECT_EQ(handOff.starting(), 3u);
}

TEST(WorkerHandOff, AThreadTheSystemRefusedFreesItsPlace) {
  WorkerHandOff handOff(WorkerHandOff::Limits{1, 2});
  handOff.arrived();
  EXPECT_TRUE(handOff.wantWorker());
  EXPECT_FALSE(handOff.wantWorker());
  handOff.notStarted();
  EXPECT_EQ(handOff.starting(), 0u);
  EXPECT_TRUE(handOff.wantWorker()) << "the refused start no longer counts";
}

TEST(WorkerHandOff, IdleWorkersRetireDownToTheMinimumAndTheDrainTakesTheRest) {
  WorkerHandOff handOff(WorkerHandOff::Limits{2, 8});
  handOff.arrived();
  handOff.arrived();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(handOff.wantWorker());  // 5 in all
  EXPECT_TRUE(handOff.mayRetire());
  EXPECT_TRUE(handOff.mayRetire());
  EXPECT_TRUE(handOff.mayRetire());
  EXPECT_FALSE(handOff.mayRetire()) << "two are kept";
  EXPECT_FALSE(handOff.mayRetire());
  handOff.leave();
  handOff.leave();
  EXPECT_TRUE(handOff.wantWorker()) << "after the drain's leaving, the count is back at zero";
}

TEST(PerCpuCounters, TheSumIsEveryAddFromEveryThread) {
  PerCpuCounters counters;
  constexpr int kThreads = 8;
  constexpr int kAdds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAdds; ++i) {
        counters.add(PerCpuCounters::Messages, 1);
        counters.add(PerCpuCounters::BytesReceived, 17);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counters.sum(PerCpuCounters::Messages), static_cast<std::uint64_t>(kThreads) * kAdds);
  EXPECT_EQ(counters.sum(PerCpuCounters::BytesReceived), static_cast<std::uint64_t>(kThreads) * kAdds * 17);
  EXPECT_EQ(counters.sum(PerCpuCounters::BytesSent), 0u);
}

}  // namespace
}  // namespace echod
