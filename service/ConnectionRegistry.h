#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <array>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/Replies.h"
#include "service/CoarseClock.h"
#include "service/LingeringCloses.h"

namespace echod {

/// Sends `ERR <reason>` on a socket that no worker serves (just accepted, or
/// still queued) and closes its sending side; never blocks.
void refuseSocket(Poco::Net::StreamSocket& socket, ErrorReason reason);

/// Every connection the server has admitted, queued for a thread or running
/// on one: admission counts them (capacity, per address), the housekeeper
/// reads their last-message stamps, and shutdown reaches them.
/// TCPServer::stop() leaves running connections alone and drops queued ones
/// without a word; this is how the server answers both (docs/protocol.md).
class ConnectionRegistry {
 public:
  /// Why a connection's blocked read was woken: the worker picks its reply by it.
  enum class Wake : std::uint8_t { None, IdleTimeout, IdleUnderLoad, Drain, HandshakeTimeout };

  /// Which listening socket a connection came through.
  enum class Listener : std::uint8_t { Plain, Tls };
  static constexpr std::size_t kListeners = 2;
  static constexpr std::array<const char*, kListeners> kListenerNames{"plain", "tls"};  ///< in /metrics and the console
  static const char* listenerName(Listener listener) { return kListenerNames[static_cast<std::size_t>(listener)]; }

  /// One admitted connection. Its address is stable while it is registered.
  struct Slot {
    Slot(const Poco::Net::StreamSocket& s, std::string a, std::int64_t now)
        : socket(s),
          address(std::move(a)),
          listener(s.secure() ? Listener::Tls : Listener::Plain),
          admittedMs(now),
          lastMessageMs(now) {}
    Poco::Net::StreamSocket socket;
    std::string address;  ///< peer host, only with a per-address limit
    const Listener listener;
    const std::int64_t admittedMs;
    std::atomic<std::int64_t> lastMessageMs;  ///< the coarse clock at its last complete message
    /// While a TLS handshake runs: the coarse-clock time by which it must end; 0 otherwise.
    std::atomic<std::int64_t> handshakeDeadlineMs{0};
    // For the console's live view: stored (not added) by the connection's worker after each read.
    std::atomic<std::uint64_t> messages{0};
    std::atomic<std::uint64_t> bytesIn{0};
    std::atomic<std::uint64_t> bytesOut{0};
    std::atomic<Wake> wake{Wake::None};
    bool running = false;  ///< a worker serves it (guarded by the registry's mutex)
  };

  /// What one housekeeping sweep may do, in coarse-clock milliseconds (0: never).
  struct SweepRules {
    std::int64_t idleMs = 0;           ///< idle timeout
    std::int64_t idleUnderLoadMs = 0;  ///< idle timeout while connections wait for a thread
    std::int64_t queueMs = 0;          ///< longest wait for a thread
    std::int64_t strandedMs = 0;       ///< a queued connection this old while the pool has room: no thread came
    std::size_t maxThreads = 0;
  };
  /// What a sweep did.
  struct SweepResult {
    std::size_t idleClosed = 0;
    std::size_t evictedUnderLoad = 0;
    std::size_t queueTimeouts = 0;
    std::size_t stranded = 0;  ///< queued past strandedMs while the pool had room
    std::size_t handshakeTimeouts = 0;
  };

  /// What admission decided about a new socket.
  struct Admission {
    std::optional<ErrorReason> refusal;  ///< answer this and close
    bool handedOver = false;             ///< a parked worker serves it: POCO's queue is not involved
  };

  /// One open connection, as the console's live view shows it.
  struct View {
    std::string peer;  ///< host:port; "(gone)" if it is not known and the peer already left
    Listener listener;
    std::int64_t ageMs;
    std::uint64_t messages, bytesIn, bytesOut;
    const char* state;  ///< queued, handshake, open, closing
  };
  /// A connection opened or closed, for the console's event list.
  struct Event {
    std::int64_t atMs;  ///< coarse clock
    std::string peer;
    Listener listener;
    bool opened;
    std::string reason;  ///< how it closed
  };
  static constexpr std::size_t kEventsKept = 40;

  /// `capacity`: connections held at once (threads + queue); `perAddressLimit`: 0 for none.
  ConnectionRegistry(std::size_t capacity, std::size_t perAddressLimit);

  /// Admits a freshly accepted socket, or says why not. Acceptor thread. When
  /// a worker is parked, the socket goes straight to it (the most recently
  /// parked, whose stack is warm): one lock and one wake-up, where POCO's
  /// dispatcher would take a pooled thread in a scan over the whole pool.
  Admission admit(const Poco::Net::StreamSocket& socket);

  /// A worker that finished a connection takes the next: the longest-waiting
  /// queued one at once if there is one (its entry in POCO's queue is then
  /// stale: attach() gives that dispatch nothing to do), otherwise the one
  /// admit() hands it within `timeoutMs`. Null when none came or the drain
  /// began: the worker goes back to POCO. Both sides decide under one lock, so
  /// a worker never parks while a connection waits for a thread.
  /// The socket taken is stored in `next`.
  Slot* park(Poco::Net::StreamSocket& next, std::int64_t timeoutMs);

  /// A worker starts serving `socket`. Null when the connection was already
  /// answered while it waited (queue deadline, shutdown), or taken by a
  /// finishing worker (park()): nothing left to do.
  Slot* attach(const Poco::Net::StreamSocket& socket);

  /// The connection of an admitted socket has ended: forget it, then close it,
  /// so that a wake can never reach a reused descriptor.
  void release(Poco::Net::StreamSocket& socket);

  /// A complete message arrived: one read of the coarse clock (vDSO, no system
  /// call) and one relaxed store.
  static void touch(Slot& slot) noexcept { slot.lastMessageMs.store(CoarseClock::nowMs(), std::memory_order_relaxed); }

  /// Idle timeout, adaptive idle timeout under load and queue deadline, in one
  /// pass, at `nowMs` (CoarseClock::nowMs()).
  SweepResult sweep(const SweepRules& rules, std::int64_t nowMs);

  /// Answers `ERR server busy` to queued connections waiting `ms` or longer at
  /// `nowMs`: no thread could be started for them. Returns how many.
  std::size_t refuseQueuedOlderThan(std::int64_t ms, std::int64_t nowMs);

  /// Refuse new connections, answer queued ones `ERR shutting down`, and wake
  /// every running one: a read blocked in the kernel returns end of stream once
  /// the data already received is read. Returns the queued ones answered.
  std::size_t beginDrain();

  /// After the drain time: connections still open give up with `ERR shutting down`.
  void abortAll();

  /// Waits until no admitted connection is left, at most `timeout`. True if none is left.
  bool waitUntilEmpty(const Poco::Timespan& timeout);

  /// Up to `limit` admitted connections, the oldest first; `total` gets how many there are.
  std::vector<View> snapshot(std::size_t limit, std::size_t& total) const;
  /// Keeps the last kEventsKept events.
  void recordEvent(Event event);
  /// The kept events, oldest first.
  std::vector<Event> events() const;

  /// Finished plain connections waiting for their client's close (swept by the housekeeper).
  LingeringCloses& lingering() noexcept { return _lingering; }
  const LingeringCloses& lingering() const noexcept { return _lingering; }
  /// At most this many sockets linger there at once; beyond, a worker lingers itself.
  static constexpr std::size_t kLingeringMax = 1024;

  bool draining() const noexcept { return _draining.load(std::memory_order_acquire); }
  bool aborting() const noexcept { return _aborting.load(std::memory_order_acquire); }
  std::size_t size() const;
  struct Counts {
    std::size_t running;
    std::size_t queued;
    std::array<std::size_t, kListeners> open;  ///< admitted, by listener
  };
  Counts counts() const;

 private:
  using Map = std::unordered_map<const void*, Slot>;
  /// Where a worker between two connections waits for the next. Owned by the
  /// registry and reused, never freed while it lives: admit() calls the worker
  /// after unlocking (a worker woken under the lock would only block on it
  /// again), and by then the worker may have left; a late call then reaches a
  /// live futex word, at worst a spurious wake for its next user, who looks
  /// under the lock and waits again. A futex rather than a condition variable:
  /// glibc marks a mutex retaken after a condition wait as contended, so that
  /// every hand-over cost a third system call, a futex wake on unlocking.
  struct Parking {
    std::atomic<std::uint32_t> called{0};           ///< futex word: 1 once slot or leave may have changed
    Slot* slot = nullptr;                           ///< the connection handed to it, running already
    std::optional<Poco::Net::StreamSocket> socket;  ///< with slot
    bool leave = false;                             ///< the drain began: go back to POCO
  };
  /// Wakes a parked worker (any thread, with or without the lock).
  static void call(Parking& worker);
  void wake(Slot& slot, Wake why);
  Map::iterator answerQueued(Map::iterator it, ErrorReason reason);
  void compactQueueOrder();
  /// Erases an entry and hands back its socket, to be closed and then put in _released.
  Poco::Net::StreamSocket forgetLocked(Map::iterator it);

  const std::size_t _capacity;
  const std::size_t _perAddressLimit;
  mutable std::mutex _mutex;
  std::condition_variable _emptied;
  Map _entries;  ///< keyed by the socket's shared implementation
  std::size_t _running = 0;
  std::array<std::size_t, kListeners> _open{};  ///< entries by listener
  std::unordered_map<std::string, std::size_t> _perAddress;
  /// Closed sockets whose memory the acceptor frees on its next admit(). POCO
  /// counts socket references with atomics in code not built for TSan; freeing
  /// them after our mutex hand-over keeps the happens-before visible to it.
  std::vector<Poco::Net::StreamSocket> _released;
  std::vector<Parking*> _parked;  ///< workers waiting for a hand-over, the latest last
  std::deque<Parking> _parkings;  ///< one per worker that ever parked at once: bounded by the pool
  std::vector<Parking*> _freeParkings;
  /// Queued connections in admission order, for park() to take the oldest.
  /// Keys of entries answered meanwhile stay until skipped; compacted when
  /// it outgrows twice the capacity, so it stays bounded.
  std::deque<const void*> _queueOrder;
  mutable std::mutex _eventsMutex;
  std::deque<Event> _events;  ///< guarded by _eventsMutex
  LingeringCloses _lingering{kLingeringMax};
  std::atomic<bool> _draining{false};
  std::atomic<bool> _aborting{false};
};

}  // namespace echod
