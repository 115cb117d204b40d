#pragma once

#include <array>
#include <cstdint>

namespace echod {

/// Counts latencies in log-linear buckets (32 per power of two, about 3 %
/// precision) from 1 ns to hours, in fixed memory: one per load thread,
/// merged at the end.
class LatencyHistogram {
 public:
  void record(std::uint64_t nanoseconds) noexcept;
  void merge(const LatencyHistogram& other) noexcept;

  std::uint64_t count() const noexcept { return _count; }
  std::uint64_t max() const noexcept { return _max; }
  /// The latency below which `fraction` (0..1) of the samples lie, in ns.
  std::uint64_t percentile(double fraction) const noexcept;

 private:
  static constexpr unsigned kSubBits = 5;
  static constexpr std::size_t kBuckets = (64 - kSubBits + 1) << kSubBits;
  static std::size_t bucketOf(std::uint64_t value) noexcept;
  static std::uint64_t upperBoundOf(std::size_t bucket) noexcept;

  std::array<std::uint64_t, kBuckets> _counts{};
  std::uint64_t _count = 0;
  std::uint64_t _max = 0;
};

}  // namespace echod
