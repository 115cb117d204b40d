// FaultPlan, the pure part of faults on demand (docs/protocol.md, "Faults on
// demand"): the delay's text, the share drawn per connection, each reply's
// delay within its range, and which message gets the fault.
#include "protocol/FaultPlan.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <utility>

namespace echod {
namespace {

TEST(FaultPlan, ADelayIsMillisecondsOrARange) {
  using Range = std::pair<std::int64_t, std::int64_t>;
  EXPECT_EQ(parseDelayRange("0", 1000), Range(0, 0));
  EXPECT_EQ(parseDelayRange("250", 1000), Range(250, 250));
  EXPECT_EQ(parseDelayRange("100-300", 1000), Range(100, 300));
  EXPECT_EQ(parseDelayRange("300-300", 1000), Range(300, 300));
  for (const char* bad : {"", "-", "300-100", "-5", "5-", "1.5", "fast", "100-2000", "1001", " 5", "5 ", "1-2-3"}) {
    EXPECT_FALSE(parseDelayRange(bad, 1000)) << bad;
  }
}

TEST(FaultPlan, NothingAskedDrawsNoConnection) {
  const FaultOptions none;
  EXPECT_FALSE(none.any());
  EXPECT_EQ(none.describe(), "none");
  for (std::uint64_t seed = 0; seed < 100; ++seed) EXPECT_FALSE(FaultPlan(none, seed).drawn());
}

TEST(FaultPlan, TheShareIsDrawnFromTheSeed) {
  FaultOptions f;
  f.fault = FaultKind::Close;
  for (const int share : {0, 30, 100}) {
    f.sharePercent = share;
    int drawn = 0;
    for (std::uint64_t seed = 0; seed < 10000; ++seed) drawn += FaultPlan(f, seed).drawn() ? 1 : 0;
    // 10,000 draws: within 3 points of the share (more than 6 standard deviations).
    EXPECT_NEAR(drawn / 100.0, share, 3.0) << share;
  }
}

TEST(FaultPlan, EachDelayIsWithinItsRangeAndTheRangeIsCovered) {
  FaultOptions f;
  f.delayMinMs = 10;
  f.delayMaxMs = 14;
  FaultPlan plan(f, 42);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(plan.nextDelayMs());
  EXPECT_EQ(seen, (std::set<std::int64_t>{10, 11, 12, 13, 14}));
  f.delayMinMs = f.delayMaxMs = 7;
  FaultPlan fixed(f, 1);
  EXPECT_EQ(fixed.nextDelayMs(), 7);
}

TEST(FaultPlan, TheFaultFallsOnTheMessageAfterFaultAfterReplies) {
  FaultOptions f;
  f.fault = FaultKind::Hang;
  f.faultAfter = 2;
  const FaultPlan plan(f, 0);
  EXPECT_EQ(plan.faultAfter(0), FaultKind::None);
  EXPECT_EQ(plan.faultAfter(1), FaultKind::None);
  EXPECT_EQ(plan.faultAfter(2), FaultKind::Hang);
  EXPECT_EQ(plan.faultAfter(3), FaultKind::None);  // a hang or a close never gets there; said once
}

TEST(FaultPlan, TheStartupLineSaysEveryFaultInForce) {
  FaultOptions f;
  f.delayMinMs = 5;
  f.delayMaxMs = 5;
  EXPECT_EQ(f.describe(), "reply delay 5 ms, on 100 % of connections");
  f.chunk = 1;
  f.chunkIntervalMs = 0;
  f.fault = FaultKind::Reset;
  f.sharePercent = 10;
  EXPECT_EQ(f.describe(),
            "reply delay 5 ms, replies in 1-byte chunks every 0 ms, reset after 0 replies, on 10 % of "
            "connections");
  EXPECT_STREQ(faultName(FaultKind::Close), "close");
  EXPECT_STREQ(faultName(FaultKind::None), "none");
}

}  // namespace
}  // namespace echod
