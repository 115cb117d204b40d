#include "service/core/CoarseClock.h"

#include <time.h>

namespace echod {
namespace {

std::int64_t readMarginMs() noexcept {
  timespec resolution{};
  if (::clock_getres(CLOCK_MONOTONIC_COARSE, &resolution) != 0) return 11;  // HZ=100 and more
  const std::int64_t ns = resolution.tv_sec * 1000000000LL + resolution.tv_nsec;
  return (ns + 999999) / 1000000 + 1;
}

}  // namespace

std::int64_t CoarseClock::nowMs() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

std::int64_t CoarseClock::marginMs() noexcept {
  static const std::int64_t margin = readMarginMs();
  return margin;
}

}  // namespace echod
