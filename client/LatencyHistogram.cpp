#include "client/LatencyHistogram.h"

#include <algorithm>
#include <cmath>

namespace echod {

std::size_t LatencyHistogram::bucketOf(std::uint64_t value) noexcept {
  constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;
  if (value < kSub) return static_cast<std::size_t>(value);
  const unsigned msb = 63U - static_cast<unsigned>(__builtin_clzll(value));
  const unsigned exponent = msb - kSubBits;
  const std::uint64_t mantissa = value >> exponent;  // in [kSub, 2 * kSub)
  return static_cast<std::size_t>((exponent + 1) * kSub + (mantissa - kSub));
}

std::uint64_t LatencyHistogram::upperBoundOf(std::size_t bucket) noexcept {
  constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;
  if (bucket < kSub) return bucket;
  const auto exponent = static_cast<unsigned>(bucket / kSub - 1);
  const std::uint64_t mantissa = kSub + bucket % kSub;
  return ((mantissa + 1) << exponent) - 1;
}

void LatencyHistogram::record(std::uint64_t nanoseconds) noexcept {
  ++_counts[bucketOf(nanoseconds)];
  ++_count;
  _max = std::max(_max, nanoseconds);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) _counts[i] += other._counts[i];
  _count += other._count;
  _max = std::max(_max, other._max);
}

std::uint64_t LatencyHistogram::percentile(double fraction) const noexcept {
  if (_count == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(_count)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += _counts[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(upperBoundOf(i), _max);
  }
  return _max;
}

}  // namespace echod
