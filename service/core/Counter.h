#pragma once

#include <atomic>
#include <cstdint>

namespace echod {

/// A counter of /metrics: a relaxed atomic, added to without a lock, read
/// when /metrics or the console asks.
using Counter = std::atomic<std::uint64_t>;

inline void count(Counter& counter, std::uint64_t n = 1) noexcept { counter.fetch_add(n, std::memory_order_relaxed); }

}  // namespace echod
