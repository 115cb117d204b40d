#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "protocol/Replies.h"
#include "service/connection/ConnectionFaults.h"
#include "service/connection/ProxyHeaderRead.h"
#include "service/connection/TlsHandshake.h"
#include "service/core/Counter.h"
#include "service/core/Listener.h"
#include "service/core/PerCpuCounters.h"

namespace echod {

/// The connection path's counters, for /metrics: what the acceptor, the
/// workers, the housekeeper and the drain count about TCP connections, with
/// the counts of each step of a connection's opening and of the faults
/// beside the code that produces them (TlsHandshake.h, ProxyHeaderRead.h,
/// ConnectionFaults.h). Relaxed atomics: no lock on the line path. What every
/// read adds to (messages, bytes in and out) is kept a cache line per CPU
/// (PerCpuCounters); the rest is added to once per connection, per refusal
/// or per event (a fault counts per reply it hits).
struct ConnectionMetrics : TlsHandshakeCounters, ProxyHeaderCounters, FaultCounters {
  /// One slot per ErrorReason: the last enumerator plus one.
  static constexpr std::size_t kReasons = static_cast<std::size_t>(kLastErrorReason) + 1;

  /// Messages, bytes received and bytes sent, by CPU: add() per read.
  PerCpuCounters traffic;
  /// One of traffic's totals, read as a counter is: load() sums the CPUs' lines.
  struct Total {
    const PerCpuCounters& counters;
    const PerCpuCounters::Field field;
    std::uint64_t load() const noexcept { return counters.sum(field); }
  };
  const Total messages{traffic, PerCpuCounters::Messages};  ///< lines (raw: chunks) answered with an echo
  const Total bytesReceived{traffic, PerCpuCounters::BytesReceived};
  const Total bytesSent{traffic, PerCpuCounters::BytesSent};

  Counter connectionsOpened{0};
  std::array<Counter, kReasons> refused{};  ///< never served: busy (incl. queue deadline), too many, shutting down
  std::array<Counter, kReasons> errors{};   ///< ERR lines sent on open connections
  Counter idleWoken{0};                     ///< connections the housekeeper woke for the idle timeout
  Counter evictedUnderLoad{0};              ///< idle connections closed to make room for waiting ones
  Counter queueTimeouts{0};                 ///< queued connections answered `ERR server busy` at the deadline
  Counter threadStartFailures{0};           ///< queued connections refused because no thread could start

  /// Connections the server ended on purpose with FIN (echo.maxConnectionAge,
  /// echo.maxMessagesPerConnection), by reason: kRecycleNames.
  enum class Recycle : std::size_t { MaxAge, MaxMessages };
  static constexpr std::array<const char*, 2> kRecycleNames{"max_age", "max_messages"};
  std::array<Counter, kRecycleNames.size()> recycled{};
  void countRecycled(Recycle why) { count(recycled[static_cast<std::size_t>(why)]); }

  /// Connections served, by listener (service/core/Listener.h).
  std::array<Counter, kListeners> connectionsByListener{};

  static std::size_t slot(ErrorReason reason) { return static_cast<std::size_t>(reason); }
  static void count(Counter& counter, std::uint64_t n = 1) { echod::count(counter, n); }
};

}  // namespace echod
