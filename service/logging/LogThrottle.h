#pragma once

#include <chrono>
#include <cstddef>

namespace echod {

/// One log line a second at most for an event that can come in floods
/// (refused connections, failed accepts, refused threads): a flood must not
/// become a log flood, and the line says how many events it stands for. Not
/// locked: use it from one thread, or under a lock of your own.
class LogThrottle {
 public:
  /// Counts `n` events now. Returns how many events (these included) a line
  /// written now stands for; 0 while the last line is less than a second
  /// old: they are counted into the next.
  std::size_t count(std::size_t n = 1) {
    _pending += n;
    const auto now = std::chrono::steady_clock::now();
    if (_pending == 0 || (_logged && now - _last < kInterval)) return 0;
    _logged = true;
    _last = now;
    const std::size_t events = _pending;
    _pending = 0;
    return events;
  }

 private:
  static constexpr std::chrono::seconds kInterval{1};
  std::chrono::steady_clock::time_point _last;
  bool _logged = false;
  std::size_t _pending = 0;
};

}  // namespace echod
