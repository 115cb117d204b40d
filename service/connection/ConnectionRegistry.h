#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/Replies.h"
#include "service/connection/ConnectionSlot.h"
#include "service/connection/WorkerHandOff.h"
#include "service/core/CoarseClock.h"

namespace echod {

/// Every connection the server has admitted, queued for a thread or running
/// on one, under one mutex: admission counts them (capacity, per address) and
/// hands them to parked workers (WorkerHandOff), the housekeeper sweeps their
/// deadlines, shutdown reaches them, the console looks at them.
/// TCPServer::stop() leaves running connections alone and drops queued ones
/// without a word; this is how the server answers both (docs/protocol.md).
/// Which system calls may run under its lock: docs/architecture.md, "Locks".
class ConnectionRegistry {
 public:
  using Slot = ConnectionSlot;
  using Wake = ConnectionSlot::Wake;
  using Listener = ConnectionSlot::Listener;

  /// What one housekeeping sweep may do, in CoarseClock milliseconds (0: never).
  struct SweepRules {
    std::int64_t idleMs = 0;           ///< idle timeout
    std::int64_t idleUnderLoadMs = 0;  ///< idle timeout while connections wait for a thread
    std::int64_t queueMs = 0;          ///< longest wait for a thread
    std::size_t maxThreads = 0;
  };
  /// What a sweep did.
  struct SweepResult {
    std::size_t idleClosed = 0;
    std::size_t evictedUnderLoad = 0;
    std::size_t queueTimeouts = 0;
  };

  /// What admission decided about a new socket.
  struct Admission {
    std::optional<ErrorReason> refusal;  ///< answer this and close
    bool startWorker = false;            ///< queued, and one more worker is to be started for it (WorkerThreads)
  };

  /// One open connection, as the console's live view shows it.
  struct View {
    std::string peer;   ///< the client's host:port; "(gone)" if it is not known and the peer already left
    std::string proxy;  ///< PROXY listener: the proxy's host:port (the socket's peer); empty otherwise
    Listener listener;
    std::int64_t ageMs;
    std::uint64_t messages, bytesIn, bytesOut;
    const char* state;  ///< queued, handshake, open, delaying (a delayed reply held), closing
    bool faults;        ///< drawn for faults on demand
  };

  /// `capacity`: connections held at once (threads + queue); `perAddressLimit`:
  /// 0 for none; `workers`: how many worker threads may exist.
  ConnectionRegistry(std::size_t capacity, std::size_t perAddressLimit, WorkerHandOff::Limits workers);

  /// Admits a freshly accepted socket, or says why not. Acceptor thread. When
  /// a worker is parked, the socket goes straight to it (the most recently
  /// parked, whose stack is warm): one lock and one wake-up. Otherwise it is
  /// queued, and when fewer than the most workers exist, one more is to be
  /// started (startWorker): the cost of a start never depends on how many
  /// workers there are. On the PROXY listener the per-address limit waits
  /// for the header's client (claimClient()).
  Admission admit(const Poco::Net::StreamSocket& socket, Listener listener);

  /// PROXY listener, after the header: `host` (given with a per-address
  /// limit) and "ip:port" `client` (when the header named one and it is shown)
  /// are this connection's client from now on. False
  /// when that host already holds the per-address limit: answer `ERR too many
  /// connections` and end.
  bool claimClient(Slot& slot, std::string host, std::string client);

  /// A worker, new (`arriving`) or done with a connection, takes the next:
  /// the longest-waiting queued one at once if there is one, otherwise the
  /// one admit() hands it. Parked `timeoutMs` without one, it leaves if more
  /// than the minimum of workers are left, else parks again. Null when it is
  /// to leave (it is no longer counted): retired, or the drain began. The
  /// socket taken is stored in `next`.
  Slot* park(Poco::Net::StreamSocket& next, std::int64_t timeoutMs, bool arriving);

  /// The system refused the thread admit() asked for: when that leaves a
  /// queued connection with no worker on its way, the newest queued one is
  /// answered `ERR server busy` and closed. Returns how many were (0 or 1).
  std::size_t workerNotStarted();

  /// The connection of an admitted socket has ended: forget it, then close it
  /// (outside the lock), so that a wake can never reach a reused descriptor.
  void release(Poco::Net::StreamSocket& socket);

  /// When `slot` last completed a message (its admission while queued).
  static std::int64_t lastMessageOf(const Slot& slot) noexcept {
    const ConnectionStamps* stamps = slot.stamps.load(std::memory_order_acquire);
    return stamps != nullptr ? stamps->lastMessageMs.load(std::memory_order_relaxed) : slot.admittedMs;
  }

  /// A worker begins a step of the connection's opening (a PROXY header read, a TLS handshake): it must end
  /// within `timeoutMs` from now (the housekeeper wakes it then). The slot
  /// holds the deadline, and the registry the earliest one armed, so that a
  /// sweep knows when it has one to look for.
  void armOpeningDeadline(Slot& slot, std::int64_t timeoutMs) noexcept;

  /// echo.maxConnectionAge: the connection ends with FIN at `deadlineMs`
  /// (CoarseClock); the housekeeper wakes it then if it is idle.
  void armAgeDeadline(Slot& slot, std::int64_t deadlineMs) noexcept;

  /// Idle timeout, adaptive idle timeout under load, queue, handshake and
  /// max age deadlines at `nowMs` (CoarseClock::nowMs()). Queued connections are
  /// looked at in admission order, only as far as one is due; the running
  /// ones only when one of them can be due (the oldest last message past the
  /// idle timeout, an armed deadline) or while connections wait for a full
  /// pool: at 10,000 connections a tick does not walk 10,000 entries.
  SweepResult sweep(const SweepRules& rules, std::int64_t nowMs);

  /// Refuse new connections, answer queued ones `ERR shutting down`, send
  /// parked workers away, and wake every running one: a read blocked in the
  /// kernel returns end of stream once the data already received is read.
  /// Returns the queued ones answered.
  std::size_t beginDrain();

  /// After the drain time: connections still open give up with `ERR shutting down`.
  void abortAll();

  /// Waits until no admitted connection is left, at most `timeout`. True if none is left.
  bool waitUntilEmpty(const Poco::Timespan& timeout);

  /// Up to `limit` admitted connections, the oldest first; `total` gets how
  /// many there are. Holds the lock for `limit` entries, not for all of them.
  std::vector<View> snapshot(std::size_t limit, std::size_t& total) const;

  bool draining() const noexcept { return _draining.load(std::memory_order_acquire); }
  /// Whether connections are counted per client address (echo.maxConnectionsPerAddress).
  bool perAddressLimited() const noexcept { return _perAddressLimit > 0; }
  bool aborting() const noexcept { return _aborting.load(std::memory_order_acquire); }
  std::size_t size() const;
  struct Counts {
    std::size_t running;
    std::size_t queued;
    std::array<std::size_t, kListeners> open;  ///< admitted, by listener
    std::size_t parked;                        ///< workers waiting for a connection
  };
  Counts counts() const;

 private:
  using Map = std::unordered_map<const void*, Slot>;
  /// Shuts down the receive side of a running connection with `why`.
  static void wake(Slot& slot, Wake why);
  /// Lowers the earliest deadline armed to `deadline`.
  void lowerEarliestDeadline(std::int64_t deadline) noexcept;
  Map::iterator answerQueued(Map::iterator it, ErrorReason reason);
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
  Slot* _oldest = nullptr;  ///< admission order (Slot::older/newer), for snapshot()
  Slot* _newest = nullptr;
  WorkerHandOff _handOff;  ///< its methods run under _mutex
  /// Socket references the registry let go of, freed by the acceptor on its
  /// next admit(). POCO counts socket references with atomics in code not
  /// built for TSan; dropping them only under our mutex keeps the
  /// happens-before visible to it. (snapshot() lets go of some too.)
  mutable std::vector<Poco::Net::StreamSocket> _released;
  std::atomic<bool> _draining{false};
  std::atomic<bool> _aborting{false};
  /// No deadline is at or before this (CoarseClock ms).
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max() / 4;
  /// The sweep's next look at the running connections for the idle timeout:
  /// the oldest last message it saw plus the idle timeout (guarded by _mutex).
  std::int64_t _nextIdleLookMs = 0;
  /// The earliest handshake, header or age deadline armed since the sweep last
  /// looked at them all: lowered by workers (armOpeningDeadline), reset by the sweep.
  std::atomic<std::int64_t> _earliestDeadlineMs{kNever};
};

}  // namespace echod
