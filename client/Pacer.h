#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>

namespace echod {

/// --rate for one connection of a load run: `rate` sends a second in all,
/// spread over `connections`, each taking its turn every connections / rate
/// seconds, the turns staggered by the connection's index. A connection that
/// fell behind does not burst to catch up. Used by LoadGenerator and
/// UdpEchoClient; without a rate it never waits.
class Pacer {
 public:
  using Clock = std::chrono::steady_clock;

  Pacer() = default;
  /// `end`: no wait goes past it (a timed run); nothing: a run bounded by its count.
  Pacer(std::int64_t rate, int connections, int index, Clock::time_point start, std::optional<Clock::time_point> end)
      : _interval(rate > 0 ? std::chrono::nanoseconds(std::int64_t{1'000'000'000} * connections / rate)
                           : std::chrono::nanoseconds(0)),
        _next(start + _interval * index / std::max(connections, 1)),
        _end(end) {}

  /// Waits for this connection's next turn, then books `sends` more.
  void wait(std::uint64_t sends = 1) {
    if (_interval.count() == 0) return;
    if (_next > Clock::now()) std::this_thread::sleep_until(_end ? std::min(_next, *_end) : _next);
    _next = std::max(_next, Clock::now()) + _interval * static_cast<std::int64_t>(sends);
  }

 private:
  std::chrono::nanoseconds _interval{0};
  Clock::time_point _next;
  std::optional<Clock::time_point> _end;
};

}  // namespace echod
