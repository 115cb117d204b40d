#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/Replies.h"

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
  enum class Wake : std::uint8_t { None, IdleTimeout, IdleUnderLoad, Drain };

  /// One admitted connection. Its address is stable while it is registered.
  struct Slot {
    Slot(const Poco::Net::StreamSocket& s, std::string a, std::int64_t now)
        : socket(s), address(std::move(a)), admittedMs(now), lastMessageMs(now) {}
    Poco::Net::StreamSocket socket;
    std::string address;  ///< peer host, only with a per-address limit
    const std::int64_t admittedMs;
    std::atomic<std::int64_t> lastMessageMs;  ///< the coarse clock at its last complete message
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
  };

  /// `capacity`: connections held at once (threads + queue); `perAddressLimit`: 0 for none.
  ConnectionRegistry(std::size_t capacity, std::size_t perAddressLimit);

  /// Admits a freshly accepted socket, or says why not. Acceptor thread.
  std::optional<ErrorReason> admit(const Poco::Net::StreamSocket& socket);

  /// A worker starts serving `socket`. Null when the connection was already
  /// answered while it waited (queue deadline, shutdown): nothing left to do.
  Slot* attach(const Poco::Net::StreamSocket& socket);

  /// The connection of an admitted socket has ended: forget it, then close it,
  /// so that a wake can never reach a reused descriptor.
  void release(Poco::Net::StreamSocket& socket);

  /// A complete message arrived: one read of the coarse clock (vDSO, no system
  /// call) and one relaxed store.
  static void touch(Slot& slot) noexcept { slot.lastMessageMs.store(coarseNowMs(), std::memory_order_relaxed); }

  /// The clock of every stamp and deadline: CLOCK_MONOTONIC_COARSE in ms. It
  /// lags the real time by at most its resolution; the sweep adds that (and
  /// the ms truncation) to every deadline, so none fires early, however late
  /// the housekeeper runs.
  static std::int64_t coarseNowMs() noexcept;

  /// Idle timeout, adaptive idle timeout under load and queue deadline, in one
  /// pass, at `nowMs` (coarseNowMs()).
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

  bool draining() const noexcept { return _draining.load(std::memory_order_acquire); }
  bool aborting() const noexcept { return _aborting.load(std::memory_order_acquire); }
  std::size_t size() const;
  struct Counts {
    std::size_t running;
    std::size_t queued;
  };
  Counts counts() const;

 private:
  using Map = std::unordered_map<const void*, Slot>;
  void wake(Slot& slot, Wake why);
  Map::iterator answerQueued(Map::iterator it, ErrorReason reason);
  /// Erases an entry and hands back its socket, to be closed and then put in _released.
  Poco::Net::StreamSocket forgetLocked(Map::iterator it);

  const std::size_t _capacity;
  const std::size_t _perAddressLimit;
  mutable std::mutex _mutex;
  std::condition_variable _emptied;
  Map _entries;  ///< keyed by the socket's shared implementation
  std::size_t _running = 0;
  std::unordered_map<std::string, std::size_t> _perAddress;
  /// Closed sockets whose memory the acceptor frees on its next admit(). POCO
  /// counts socket references with atomics in code not built for TSan; freeing
  /// them after our mutex hand-over keeps the happens-before visible to it.
  std::vector<Poco::Net::StreamSocket> _released;
  const std::int64_t _marginMs;  ///< the coarse clock's resolution + 1 ms: added to every deadline
  std::atomic<bool> _draining{false};
  std::atomic<bool> _aborting{false};
};

}  // namespace echod
