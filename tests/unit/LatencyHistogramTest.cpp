#include <gtest/gtest.h>

#include "client/LatencyHistogram.h"

namespace echod {
namespace {

TEST(LatencyHistogram, PercentilesAreWithinThreePercent) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v * 1000);  // 1 us .. 100 ms
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.max(), 100000000u);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 50e6, 50e6 * 0.03);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 99e6, 99e6 * 0.03);
  EXPECT_EQ(h.percentile(1.0), 100000000u);
}

TEST(LatencyHistogram, SmallValuesAreExactAndMergeAddsCounts) {
  LatencyHistogram a;
  LatencyHistogram b;
  a.record(3);
  b.record(7);
  b.record(7);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.percentile(0.3), 3u);
  EXPECT_EQ(a.percentile(0.9), 7u);
  EXPECT_EQ(LatencyHistogram().percentile(0.5), 0u);
}

}  // namespace
}  // namespace echod
