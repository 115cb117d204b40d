// Counts heap allocations to show the line path allocates nothing once warm
// (docs/performance.md). It replaces the global operator new, so it is a
// binary of its own.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "protocol/EchoSession.h"

namespace {
std::atomic<long> allocations{0};
}

// The replacements pair malloc with free on purpose; GCC cannot see that.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace echod {
namespace {

TEST(Allocation, EchoingLinesAllocatesNothingOnceWarm) {
  EchoSession session(SessionOptions{});
  std::string out;
  out.reserve(64 * 1024);
  std::string input;
  for (int i = 0; i < 500; ++i) input += "a message of some length " + std::to_string(i) + "\n";
  // Warm up with lines split across reads, so the partial-line buffer has grown.
  for (std::size_t i = 0; i < input.size(); i += 7) {
    session.feed(std::string_view(input).substr(i, 7), out);
    out.clear();
  }
  const std::uint64_t echoedBefore = session.echoed();
  std::size_t replyBytes = 0;
  const long before = allocations.load();
  for (int round = 0; round < 100; ++round) {
    for (std::size_t i = 0; i < input.size(); i += 1000) {
      session.feed(std::string_view(input).substr(i, 1000), out);
      replyBytes += out.size();
      out.clear();
    }
  }
  const long allocated = allocations.load() - before;
  // The loop did its work: every line answered, every reply byte produced.
  EXPECT_EQ(session.echoed() - echoedBefore, 50000u);
  EXPECT_EQ(replyBytes, 100 * (input.size() + 500 * SessionOptions{}.prefix.size()));
  EXPECT_EQ(session.verdict(), Verdict::Continue);
  EXPECT_EQ(allocated, 0) << "allocations for 50000 echoed lines";
}

}  // namespace
}  // namespace echod
