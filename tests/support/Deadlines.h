#pragma once

#include <cstdint>

#include "service/core/CoarseClock.h"
#include "service/server/Housekeeper.h"

namespace echod::test {

/// Time for a woken worker, the housekeeper and the test's own thread to be
/// scheduled, beyond what the server promises. Measured on the 2-core CI
/// machine under TSan with `ctest -j2`: the worst lateness seen in 20 runs of
/// the deadline suites is in docs/architecture.md ("Tests and time").
inline constexpr std::int64_t kSchedulingMarginMs = 250;

/// The latest a test may see the end of a deadline of `ms` that the
/// housekeeper keeps: the deadline, two ticks, the coarse clock's margin, and
/// the scheduling margin. Count it from a moment no earlier than the server's
/// own start of the deadline (e.g. once the registry shows the connection):
/// counted from before it, a slow acceptor would be charged to the deadline.
/// A bound from below is the reverse: "never early" is the server's promise,
/// and holds from any moment no later than its start (e.g. before connect()).
inline std::int64_t latestSeenMs(std::int64_t ms) {
  return ms + 2 * Housekeeper::kTickMs + CoarseClock::marginMs() + kSchedulingMarginMs;
}

}  // namespace echod::test
