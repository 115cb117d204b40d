#pragma once

#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "service/connection/ConnectionSlot.h"

namespace echod {

/// The hand-off between the acceptor and the workers between two
/// connections: how many workers exist and when one more is started or one
/// leaves, which workers are parked, in what order queued connections wait,
/// and the futex each parked worker sleeps on. (The threads themselves are
/// started and joined by WorkerThreads.)
///
/// Not locked on its own: every method runs under the ConnectionRegistry's
/// one mutex, held by the caller (park() releases it while it sleeps), so
/// that admission and a finishing worker decide together and a worker never
/// parks while a connection waits. Only call() runs after the caller
/// unlocked: a worker woken under the lock would only block on it again.
class WorkerHandOff {
 public:
  /// Where a worker between two connections waits for the next. Owned here
  /// and reused, never freed while the registry lives: by the time the
  /// acceptor calls a worker (after unlocking) the worker may have left; a
  /// late call then reaches a live futex word, at worst a spurious wake for
  /// its next user, who looks under the lock and waits again. A futex rather
  /// than a condition variable: glibc marks a mutex retaken after a condition
  /// wait as contended, so that every hand-over cost a third system call, a
  /// futex wake on unlocking.
  /// How many workers may exist: `min` are started up front and kept, at most `max` at once.
  struct Limits {
    std::size_t min = 1;
    std::size_t max = 1;
  };

  explicit WorkerHandOff(Limits limits) : _limits(limits), _workers(limits.min), _starting(limits.min) {}

  struct Parking {
    std::atomic<std::uint32_t> called{0};           ///< futex word: 1 once slot or leave may have changed
    ConnectionSlot* slot = nullptr;                 ///< the connection handed to it, running already
    std::optional<Poco::Net::StreamSocket> socket;  ///< with slot
    bool leave = false;                             ///< the drain began: go back to POCO
  };

  /// The most recently parked worker (its stack is warm), taken out of the
  /// parked list; null when none is parked.
  Parking* takeParked();
  /// Gives `slot` (already marked running) to `worker`, taken by takeParked();
  /// then, after unlocking, call(*worker).
  static void give(Parking& worker, ConnectionSlot& slot);
  /// Wakes a parked worker (any thread, with or without the lock).
  static void call(Parking& worker);

  /// A connection no worker could take at once: remembered in admission order.
  /// `stillQueued(key)` says whether a key still waits (for compaction, when
  /// the order outgrows twice `capacity`: keys answered meanwhile stay until skipped).
  template <class StillQueued>
  void enqueue(const void* key, std::size_t capacity, const StillQueued& stillQueued) {
    _queueOrder.push_back(key);
    if (_queueOrder.size() <= 2 * capacity + 16) return;
    std::deque<const void*> live;
    for (const void* queued : _queueOrder) {
      if (stillQueued(queued)) live.push_back(queued);
    }
    _queueOrder.swap(live);
  }
  /// The longest-queued key, left in place; null when none is left.
  const void* oldestQueued() const { return _queueOrder.empty() ? nullptr : _queueOrder.front(); }
  /// The longest-queued key, removed from the order; null when none is left.
  /// It may have been answered meanwhile: the caller looks it up.
  const void* popQueued();
  /// The most recently queued key, removed from the order; null when none is left.
  const void* popNewestQueued();

  /// Parks the calling worker until the acceptor gives it a connection, the
  /// drain sends it home, or `timeoutMs` passes; `lock` (the registry's) is
  /// released while it sleeps. Returns the connection given, its socket in
  /// `next`; null otherwise.
  ConnectionSlot* park(std::unique_lock<std::mutex>& lock, Poco::Net::StreamSocket& next, std::int64_t timeoutMs);

  /// The drain: every parked worker leaves, so that its thread can be joined.
  void sendAllHome();

  /// A connection was queued because no worker is parked: true when one more
  /// worker is to be started for it (counted from now on; the caller asks
  /// WorkerThreads after unlocking), false when `max` workers exist already
  /// (the connection waits for one to finish).
  bool wantWorker() {
    if (_workers >= _limits.max) return false;
    ++_workers;
    ++_starting;
    return true;
  }
  /// A started worker's first call: it is no longer on its way.
  void arrived() { --_starting; }
  /// The system refused the thread wantWorker() asked for.
  void notStarted() {
    --_workers;
    --_starting;
  }
  /// Workers parked now, waiting for a connection.
  std::size_t parked() const { return _parked.size(); }
  /// Workers asked for whose threads have not yet come to take a connection.
  std::size_t starting() const { return _starting; }
  /// A worker whose parking timed out: true (and it is no longer counted)
  /// when more than `min` are left, so it may leave; false: it parks again.
  bool mayRetire() {
    if (_workers <= _limits.min) return false;
    --_workers;
    return true;
  }
  /// A worker leaves at the drain, whatever the minimum.
  void leave() { --_workers; }

 private:
  const Limits _limits;
  std::size_t _workers;           ///< started, or asked for, and not yet leaving
  std::size_t _starting;          ///< of _workers: asked for, not yet arrived
  std::vector<Parking*> _parked;  ///< workers waiting for a hand-over, the latest last
  std::deque<Parking> _parkings;  ///< one per worker that ever parked at once: bounded by the pool
  std::vector<Parking*> _freeParkings;
  std::deque<const void*> _queueOrder;  ///< queued connections' keys in admission order
};

/// Gives this process's private futex hash (Linux 6.16 and later) at least
/// one bucket per worker thread, up to 16,384, instead of the kernel's
/// default of 4 per CPU (16 on a 2-CPU machine). Every parked worker and idle
/// pooled thread waits on a futex; with thousands of them in 16 buckets each
/// wake-up walks hundreds of waiters (measured: a connect storm after a
/// 10,000-connection burst ran at a third of its rate). Returns the slots
/// set, or 0 where the kernel has no such setting (older kernels use the
/// global hash, sized by CPUs).
int sizeFutexHash(int threads);

}  // namespace echod
