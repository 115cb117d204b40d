// How the worker pool is sized from the machine's limits: the tightest limit
// decides, each with its reserve, and the decision names it.
#include <gtest/gtest.h>

#include "service/server/PoolSizing.h"

namespace echod {
namespace {

constexpr int kQueue = 64;

TEST(PoolSizing, NoLimitsGiveTheCap) {
  const PoolSize size = PoolSizing::fromLimits(MachineLimits{}, kQueue);
  EXPECT_EQ(size.threads, PoolSizing::kCap);
  EXPECT_EQ(size.decidedBy, "the built-in cap");
}

TEST(PoolSizing, ThisKindOfMachineAllowsTenThousand) {
  // What a fresh Debian machine here reports (docs/configuration.md).
  MachineLimits limits;
  limits.nofile = 20000;
  limits.threadsMax = 192731 - 107;
  limits.pidMax = 32768 - 107;
  limits.mapCount = 65530;
  limits.physicalMemoryBytes = std::int64_t{24} << 30;
  limits.nproc = 96365;
  limits.root = true;
  const PoolSize size = PoolSizing::fromLimits(limits, kQueue);
  EXPECT_GE(size.threads, 10000);
  EXPECT_EQ(size.decidedBy, "the built-in cap");
}

TEST(PoolSizing, EachLimitDecidesWhenItIsTheTightest) {
  MachineLimits pids;
  pids.cgroupPids = 1000;
  EXPECT_EQ(PoolSizing::fromLimits(pids, kQueue).threads, 1000 - PoolSizing::kReservedThreads);
  EXPECT_EQ(PoolSizing::fromLimits(pids, kQueue).decidedBy, "cgroup pids.max");

  MachineLimits memory;
  memory.cgroupMemoryBytes = std::int64_t{256} << 20;
  const auto expected = ((std::int64_t{256} << 20) - PoolSizing::kReservedBytes) / PoolSizing::kBytesPerConnection;
  EXPECT_EQ(PoolSizing::fromLimits(memory, kQueue).threads, expected);
  EXPECT_EQ(PoolSizing::fromLimits(memory, kQueue).decidedBy, "cgroup memory limit");

  MachineLimits files;
  files.nofile = 3000;
  EXPECT_EQ(PoolSizing::fromLimits(files, kQueue).threads, 3000 - PoolSizing::kReservedFiles - kQueue);
  EXPECT_EQ(PoolSizing::fromLimits(files, kQueue).decidedBy, "RLIMIT_NOFILE");

  MachineLimits maps;
  maps.mapCount = 8192;
  EXPECT_EQ(PoolSizing::fromLimits(maps, kQueue).threads, (8192 - 1024) / 2);
  EXPECT_EQ(PoolSizing::fromLimits(maps, kQueue).decidedBy, "vm.max_map_count");
}

TEST(PoolSizing, NprocBindsOnlyWhenNotRoot) {
  MachineLimits limits;
  limits.nproc = 500;
  EXPECT_EQ(PoolSizing::fromLimits(limits, kQueue).decidedBy, "RLIMIT_NPROC");
  EXPECT_EQ(PoolSizing::fromLimits(limits, kQueue).threads, 500 - PoolSizing::kReservedThreads);
  limits.root = true;
  EXPECT_EQ(PoolSizing::fromLimits(limits, kQueue).decidedBy, "the built-in cap");
}

TEST(PoolSizing, ExhaustedLimitsStillGiveOneThread) {
  MachineLimits limits;
  limits.cgroupPids = 3;  // below the reserve
  EXPECT_EQ(PoolSizing::fromLimits(limits, kQueue).threads, 1);
}

TEST(PoolSizing, DetailListsEveryLimitFound) {
  MachineLimits limits;
  limits.nofile = 3000;
  limits.cgroupPids = 5000;
  const PoolSize size = PoolSizing::fromLimits(limits, kQueue);
  EXPECT_NE(size.detail.find("RLIMIT_NOFILE 2872"), std::string::npos) << size.detail;
  EXPECT_NE(size.detail.find("cgroup pids.max 4968"), std::string::npos) << size.detail;
}

TEST(PoolSizing, ReadsThisMachine) {
  // Every Linux machine has these; their values are whatever this one has.
  const MachineLimits limits = readMachineLimits();
  EXPECT_TRUE(limits.nofile.has_value());
  EXPECT_TRUE(limits.pidMax.has_value());
  EXPECT_TRUE(limits.physicalMemoryBytes.has_value());
  EXPECT_GT(*limits.physicalMemoryBytes, 0);
}

}  // namespace
}  // namespace echod
