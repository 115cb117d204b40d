#pragma once

#include <cstdint>

namespace echod {

/// The clock of every connection stamp and deadline: CLOCK_MONOTONIC_COARSE
/// in milliseconds, read through the vDSO (no system call), so the hot path
/// can stamp each message for the price of one load and one store.
///
/// Its one rule, "never early": the clock lags real time by up to its
/// resolution, and both ends of an interval are truncated to whole ms, so a
/// deadline is due only once `nowMs >= deadlineMs + marginMs()`. However late
/// the housekeeper runs, nothing fires before its time.
class CoarseClock {
 public:
  static std::int64_t nowMs() noexcept;
  /// The clock's resolution rounded up to whole ms, plus 1 ms for truncation (5 ms at HZ=250).
  static std::int64_t marginMs() noexcept;
  /// Whether `deadlineMs` (this clock) has passed at `nowMs`, by the rule above.
  static bool due(std::int64_t deadlineMs, std::int64_t nowMs) noexcept { return nowMs >= deadlineMs + marginMs(); }
};

}  // namespace echod
