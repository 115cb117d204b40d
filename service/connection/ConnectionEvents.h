#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "service/connection/ConnectionSlot.h"

namespace echod {

/// The last connections opened and closed, for the console's event list: a
/// ring of kKept with its own small mutex, written by workers (twice per
/// connection, only when the console is on) and read by the admin threads.
/// Apart from the registry's lock, so the acceptor never waits on a browser.
class ConnectionEvents {
 public:
  /// A connection opened or closed.
  struct Event {
    std::int64_t atMs;  ///< CoarseClock
    std::string peer;
    ConnectionSlot::Listener listener;
    bool opened;
    std::string reason;  ///< how it closed
  };
  static constexpr std::size_t kKept = 40;

  /// Keeps the last kKept events.
  void record(Event event);
  /// The kept events, oldest first.
  std::vector<Event> list() const;

 private:
  mutable std::mutex _mutex;
  std::deque<Event> _events;  ///< guarded by _mutex
};

}  // namespace echod
