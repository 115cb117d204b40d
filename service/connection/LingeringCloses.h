#pragma once

#include <poll.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace echod {

/// Sockets that sent their last reply and FIN, waiting for the client to
/// close before they are closed (closing with the client's bytes still
/// arriving would answer them with RST, which can destroy the reply before
/// the client reads it). A worker hands its socket here instead of waiting
/// itself, and is free at once: no blocking read, no wake-up when the client
/// closes. The housekeeper looks at all of them each tick with one poll(2),
/// discards what arrived, and closes those whose client closed, that passed
/// their deadline, or that sent more than their byte budget.
///
/// Bounded: at most `capacity` sockets; adopt() says no when full and the
/// worker lingers on its own thread as before.
class LingeringCloses {
 public:
  explicit LingeringCloses(std::size_t capacity) : _capacity(capacity) {}
  ~LingeringCloses();
  LingeringCloses(const LingeringCloses&) = delete;
  LingeringCloses& operator=(const LingeringCloses&) = delete;

  /// Takes a duplicate of `fd` (whose write side is shut down already), to be
  /// closed once the client closed, at `deadlineMs` (coarse clock), or after
  /// `byteBudget` discarded bytes. The caller closes its own descriptor as
  /// usual: the duplicate keeps the connection open. False when full or the
  /// duplicate cannot be made (out of descriptors): the caller lingers itself.
  /// The deadline bounds a wait, unlike the housekeeper's deadlines for
  /// connections: it may end up to CoarseClock's resolution early, never late.
  bool adopt(int fd, std::int64_t deadlineMs, std::size_t byteBudget);

  /// One look at every lingering socket (the housekeeper's thread only).
  /// Returns how many it closed.
  std::size_t sweep(std::int64_t nowMs);

  /// Waits until no socket lingers, at most `timeout`; true if none does.
  bool waitUntilEmpty(std::int64_t timeoutMs);

  /// Closes every socket still lingering (the housekeeper has stopped).
  void closeAll();

  /// Sockets lingering now (adopted, not yet closed).
  std::size_t size() const;

 private:
  struct Entry {
    int fd;
    std::int64_t deadlineMs;
    std::size_t budget;  ///< bytes still discarded before it is closed anyway
  };
  const std::size_t _capacity;
  mutable std::mutex _mutex;
  std::vector<Entry> _adopted;  ///< since the last sweep (guarded by _mutex)
  std::size_t _count = 0;       ///< adopted and not yet closed (guarded by _mutex)
  std::condition_variable _emptied;
  std::vector<Entry> _lingering;  ///< the housekeeper's own list
  std::vector<pollfd> _ready;     ///< the housekeeper's poll set, kept between ticks
  /// Where discarded bytes go (the housekeeper's). Not thread_local: a
  /// thread_local buffer is part of every thread's static TLS block, zeroed at
  /// each thread's start: 16 KiB more RSS per worker.
  std::vector<char> _sink = std::vector<char>(16 * 1024);
};

}  // namespace echod
